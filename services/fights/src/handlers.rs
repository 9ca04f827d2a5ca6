//! One function per endpoint: parse the request, call downstreams or the store, answer.
//! [`dispatch`] says which function serves which endpoint.

use bytes::Bytes;
use http::{header, request::Parts, HeaderValue, StatusCode};
use kit::body::Incoming;
use kit::{json::Object, query::int_param, response, Problem, Response, Violation};
use mongodb::bson::{oid::ObjectId, DateTime};

use crate::{
    downstream::fallback,
    downstream::Downstream,
    error::Error,
    fight::{fight, Roll},
    model::{
        self, Fight, FightDoc, FightImage, FightLocation, FightRequest, Fighter, Fighters,
        ImageRequest, NarrationRequest,
    },
    narration::{self, Poster},
    page,
    routes::Endpoint,
    Fights,
};

/// The default and the bounds of `size`.
const DEFAULT_SIZE: u64 = 20;
const MAX_SIZE: u64 = 100;

/// Runs the handler of `endpoint`; `request` and `body` are the request's head and body.
pub async fn dispatch(
    app: &Fights,
    endpoint: Endpoint<'_>,
    request: &Parts,
    body: Incoming,
) -> Result<Response, Error> {
    match endpoint {
        Endpoint::Page => Ok(arena_page(request.headers.get(header::IF_NONE_MATCH))),
        Endpoint::List => list(app, request.uri.query()).await,
        Endpoint::Create => create(app, body).await,
        Endpoint::Get(id) => get(app, id).await,
        Endpoint::RandomFighters => Ok(random_fighters(app).await),
        Endpoint::RandomLocation => Ok(random_location(app).await),
        Endpoint::ExecuteFight => execute_fight(app).await,
        Endpoint::Stats => stats(app).await,
        Endpoint::Hello => Ok(response::text(StatusCode::OK, "Hello Fight Resource")),
        Endpoint::HelloHeroes => {
            Ok(relay_hello(&app.heroes, "Could not invoke the Heroes microservice").await)
        }
        Endpoint::HelloVillains => {
            Ok(relay_hello(&app.villains, "Could not invoke the Villains microservice").await)
        }
        Endpoint::HelloLocations => Ok(relay_hello(
            &app.locations,
            "Could not invoke the Locations microservice",
        )
        .await),
        Endpoint::HelloNarration => Ok(response::text(StatusCode::OK, "Hello Narration")),
        Endpoint::Narrate => narrate(app, body).await,
        Endpoint::NarrateImage => narrate_image(app, request, body).await,
        Endpoint::Poster => poster(request.uri.query()),
    }
}

/// The story of the fight in the body, as plain text.
async fn narrate(app: &Fights, body: Incoming) -> Result<Response, Error> {
    let Object(request): Object<NarrationRequest> =
        kit::json::read_body(body, app.max_body).await?;
    let story = narration::narrate(&request.validate()?);
    Ok(response::bytes(StatusCode::OK, response::TEXT, story))
}

/// Where the picture of the narration in the body is: a poster fights draws itself, at an
/// absolute URL on the host the request was sent to.
async fn narrate_image(app: &Fights, request: &Parts, body: Incoming) -> Result<Response, Error> {
    let Object(input): Object<ImageRequest> = kit::json::read_body(body, app.max_body).await?;
    let Some(narration) = input.narration else {
        let missing = Violation::new("narration", "must not be null");
        return Err(Problem::invalid(vec![missing]).into());
    };
    let poster = Poster::new(
        &narration,
        input.winner_picture_url.as_deref().unwrap_or(""),
        input.loser_picture_url.as_deref().unwrap_or(""),
    );
    let path = format!("{}?{}", narration::POSTER_PATH, poster.query());
    let url = kit::request_rules::location(request, &path)
        .and_then(|url| url.to_str().ok().map(str::to_owned))
        .unwrap_or(path);
    let image = FightImage {
        image_url: url,
        image_narration: poster.text.to_owned(),
    };
    let size = image.image_url.len() + image.image_narration.len() * 2 + 64;
    Ok(response::json(StatusCode::OK, &image, size))
}

/// The poster the query describes; the same query always draws the same bytes.
fn poster(query: Option<&str>) -> Result<Response, Error> {
    let text = kit::query::param(query, "text")?.unwrap_or_default();
    let winner = kit::query::param(query, "winner")?.unwrap_or_default();
    let loser = kit::query::param(query, "loser")?.unwrap_or_default();
    let svg = Poster::new(&text, &winner, &loser).svg();
    let mut resp = response::bytes(
        StatusCode::OK,
        HeaderValue::from_static("image/svg+xml"),
        svg,
    );
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(resp)
}

/// The arena page, or a 304 without a body when the client's copy is current.
fn arena_page(if_none_match: Option<&HeaderValue>) -> Response {
    let mut resp = if if_none_match.is_some_and(page::is_current) {
        response::empty(StatusCode::NOT_MODIFIED)
    } else {
        response::bytes(
            StatusCode::OK,
            page::CONTENT_TYPE,
            Bytes::from_static(page::HTML.as_bytes()),
        )
    };
    let headers = resp.headers_mut();
    headers.insert(header::ETAG, page::ETAG);
    headers.insert(header::CACHE_CONTROL, page::CACHE_CONTROL);
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        page::CONTENT_SECURITY_POLICY,
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// The statistics snapshot; never runs the aggregation on the request's own time unless
/// there is no snapshot yet.
async fn stats(app: &Fights) -> Result<Response, Error> {
    let body = app.stats.get().await?;
    Ok(response::bytes(StatusCode::OK, response::JSON, body))
}

/// Hero and villain are fetched concurrently: the answer waits for the slower one only.
async fn random_fighters(app: &Fights) -> Response {
    let (hero, villain) = tokio::join!(
        app.heroes.random(fallback::hero),
        app.villains.random(fallback::villain)
    );
    let size = 32 + hero.json_size() + villain.json_size();
    response::json(StatusCode::OK, &Fighters { hero, villain }, size)
}

/// Always 200: a failing locations service yields the fallback location.
async fn random_location(app: &Fights) -> Response {
    let location = app.locations.random(fallback::location).await;
    response::json(StatusCode::OK, &location, location.json_size())
}

/// The whole game in one call: fetch all three concurrently, fight, store.
async fn execute_fight(app: &Fights) -> Result<Response, Error> {
    let (hero, villain, location) = tokio::join!(
        app.heroes.random(fallback::hero),
        app.villains.random(fallback::villain),
        app.locations.random(fallback::location),
    );
    store_fight(app, hero, villain, Some(location)).await
}

/// Answers only after the fight is stored, so a 200 fight can always be read back.
async fn create(app: &Fights, body: Incoming) -> Result<Response, Error> {
    let Object(request): Object<FightRequest> = kit::json::read_body(body, app.max_body).await?;
    let (hero, villain) =
        model::validate(request.hero, request.villain, request.location.as_ref())?;
    store_fight(app, hero, villain, request.location).await
}

/// Fights, gives the outcome a fresh id and the current time, and answers with the
/// fight once it is stored.
async fn store_fight(
    app: &Fights,
    hero: Fighter,
    villain: Fighter,
    location: Option<FightLocation>,
) -> Result<Response, Error> {
    let outcome = fight(hero, villain, location, Roll::random());
    let doc = FightDoc::new(outcome, ObjectId::new(), DateTime::now());
    let stored = app.store.insert(doc).await?;
    Ok(response::json(StatusCode::OK, &stored, stored.json_size()))
}

/// Without `page` or `size` every fight in storage order, streamed; otherwise one page,
/// newest first. An integer out of range is clamped, as the original system clamps it:
/// `page` below 0 is 0, `size` below 1 is 1 and above [`MAX_SIZE`] is [`MAX_SIZE`].
async fn list(app: &Fights, query: Option<&str>) -> Result<Response, Error> {
    let page = int_param::<i64>(query, "page")?.map(|page| page.max(0).unsigned_abs());
    let size = int_param::<i64>(query, "size")?.map(clamp_size);
    if page.is_none() && size.is_none() {
        return Ok(response::json_array(app.store.all().await?));
    }
    let fights = app
        .store
        .page(page.unwrap_or(0), size.unwrap_or(DEFAULT_SIZE))
        .await?;
    Ok(response::json(
        StatusCode::OK,
        &fights,
        fights.iter().map(Fight::json_size).sum::<usize>() + 2,
    ))
}

/// A requested page size within 1 and [`MAX_SIZE`].
fn clamp_size(size: i64) -> u64 {
    size.clamp(1, MAX_SIZE.cast_signed()).unsigned_abs()
}

/// A malformed id is the client's mistake (400), a well-formed unknown one a 404.
async fn get(app: &Fights, id: &str) -> Result<Response, Error> {
    let oid = parse_id(id).ok_or_else(|| Error::BadId(id.to_owned()))?;
    let fight = app
        .store
        .find(oid)
        .await?
        .ok_or_else(|| Problem::not_found_id("fight", id))?;
    Ok(response::json(StatusCode::OK, &fight, fight.json_size()))
}

/// An ObjectId written as exactly 24 hex digits.
fn parse_id(id: &str) -> Option<ObjectId> {
    if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    ObjectId::parse_str(id).ok()
}

/// The downstream's hello text, or the sentence saying it could not be reached.
async fn relay_hello(downstream: &Downstream, unreachable: &'static str) -> Response {
    match downstream.hello().await {
        Some(text) => response::bytes(StatusCode::OK, response::TEXT, text),
        None => response::text(StatusCode::OK, unreachable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_clamped() {
        assert_eq!(clamp_size(i64::MIN), 1);
        assert_eq!(clamp_size(0), 1);
        assert_eq!(clamp_size(20), 20);
        assert_eq!(clamp_size(101), MAX_SIZE);
        assert_eq!(clamp_size(i64::MAX), MAX_SIZE);
    }

    #[test]
    fn ids_are_24_hex_digits() {
        assert!(parse_id("+53bea9d188984908cd12429").is_none());
        assert!(parse_id("653bea9d188984908cd12429").is_some());
        assert!(parse_id("653BEA9D188984908CD12429").is_some());
        assert!(parse_id("653bea9d188984908cd1242").is_none());
        assert!(parse_id("653bea9d188984908cd1242z").is_none());
        assert!(parse_id("42").is_none());
    }
}
