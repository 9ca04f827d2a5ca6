//! One function per endpoint: read the request, call the store, shape the answer.
//! [`dispatch`] says which function serves which endpoint.

use std::borrow::Cow;

use http::{header, request::Parts, StatusCode};
use kit::body::Incoming;
use kit::field_rules::{NotAnInteger, PathId};
use kit::{response, Problem, Response};

use crate::{
    error::Error,
    model::{LocationInput, NewLocation},
    routes::Endpoint,
    Locations,
};

/// The hello of the HTTP API and of the gRPC service alike.
pub(crate) const HELLO: &str = "Hello Location Resource";

/// Runs the handler of `endpoint`; `body` is the request's.
pub async fn dispatch(
    app: &Locations,
    endpoint: Endpoint<'_>,
    request: &Parts,
    body: Incoming,
) -> Result<Response, Error> {
    match endpoint {
        Endpoint::List => list(app).await,
        Endpoint::Create => create(app, request, body).await,
        Endpoint::ReplaceAll => replace_all(app, request, body).await,
        Endpoint::DeleteAll => delete_all(app).await,
        Endpoint::Hello => Ok(response::text(StatusCode::OK, HELLO)),
        Endpoint::RandomLocation | Endpoint::Random => random(app).await,
        Endpoint::ByName(name) => by_name(app, &parse_name(name)?).await,
        Endpoint::Get(id) => get(app, row_id(id)?).await,
        Endpoint::Replace(id) => replace(app, row_id(id)?, body).await,
        Endpoint::Patch(id) => patch(app, row_id(id)?, body).await,
        Endpoint::Delete(id) => match parse_id(id)? {
            PathId::InRange(id) => delete(app, id).await,
            PathId::OutOfRange => Ok(response::empty(StatusCode::NO_CONTENT)),
        },
        Endpoint::Picture(file) => picture(file),
    }
}

/// A seed row's portrait; any other file name is a 404 like an unknown path.
fn picture(file: &str) -> Result<Response, Error> {
    kit::portrait::response(file)
        .ok_or_else(|| Problem::not_found(format!("No picture named '{file}'")).into())
}

/// A location name from the path, percent-decoded (a `+` stays a `+`: this is a path,
/// not a query).
fn parse_name(raw: &str) -> Result<Cow<'_, str>, Problem> {
    percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| Problem::bad_request("The name is not valid UTF-8 after percent-decoding"))
}

/// A location id from the path; text that is no integer is the client's mistake.
fn parse_id(raw: &str) -> Result<PathId, Problem> {
    kit::field_rules::path_id(raw).map_err(|NotAnInteger| {
        Problem::bad_request(format!("The id must be an integer, got '{raw}'"))
    })
}

/// The id of a location to read or change; an integer beyond `i64` names no row, the
/// same 404 as any absent one.
fn row_id(raw: &str) -> Result<i64, Problem> {
    match parse_id(raw)? {
        PathId::InRange(id) => Ok(id),
        PathId::OutOfRange => Err(Problem::not_found_id("location", raw)),
    }
}

async fn input<T: serde::de::DeserializeOwned>(
    app: &Locations,
    body: Incoming,
) -> Result<T, Error> {
    Ok(kit::json::read_body(body, app.max_body_bytes).await?)
}

fn validated(input: LocationInput) -> Result<NewLocation, Error> {
    input
        .validate("")
        .map_err(|violations| Problem::invalid(violations).into())
}

async fn list(app: &Locations) -> Result<Response, Error> {
    let listing = app.listings.start()?;
    Ok(response::json_array(app.store.list(listing).await?))
}

async fn get(app: &Locations, id: i64) -> Result<Response, Error> {
    let location = app
        .store
        .get(id)
        .await?
        .ok_or_else(|| Error::from(Problem::not_found_id("location", id)))?;
    Ok(response::json(
        StatusCode::OK,
        &location,
        location.json_size(),
    ))
}

async fn by_name(app: &Locations, name: &str) -> Result<Response, Error> {
    let location = app
        .store
        .by_name(name)
        .await?
        .ok_or_else(|| Problem::not_found(format!("No location named '{name}'")))?;
    Ok(response::json(
        StatusCode::OK,
        &location,
        location.json_size(),
    ))
}

async fn random(app: &Locations) -> Result<Response, Error> {
    let location = app
        .ids
        .pick(&app.store)
        .await?
        .ok_or_else(|| Problem::not_found("There are no locations"))?;
    Ok(response::json(
        StatusCode::OK,
        &location,
        location.json_size(),
    ))
}

/// A 201 whose `Location` is the new row's absolute URI, as the original sends.
async fn create(app: &Locations, request: &Parts, body: Incoming) -> Result<Response, Error> {
    let location = validated(input(app, body).await?)?;
    let id = app.store.insert(&location).await?;
    app.ids.insert(id);
    let location = location.with_id(id);
    let mut resp = response::json(StatusCode::CREATED, &location, location.json_size());
    if let Some(value) = kit::request_rules::location(request, &format!("/api/locations/{id}")) {
        resp.headers_mut().insert(header::LOCATION, value);
    }
    Ok(resp)
}

async fn replace(app: &Locations, id: i64, body: Incoming) -> Result<Response, Error> {
    let location = validated(input(app, body).await?)?;
    if app.store.update(id, &location).await? {
        Ok(response::empty(StatusCode::NO_CONTENT))
    } else {
        Err(Error::from(Problem::not_found_id("location", id)))
    }
}

async fn patch(app: &Locations, id: i64, body: Incoming) -> Result<Response, Error> {
    let changes: LocationInput = input(app, body).await?;
    let location = app
        .store
        .patch(id, |stored| validated(changes.merged_over(stored)))
        .await?
        .ok_or_else(|| Error::from(Problem::not_found_id("location", id)))?;
    let location = location.with_id(id);
    Ok(response::json(
        StatusCode::OK,
        &location,
        location.json_size(),
    ))
}

async fn delete(app: &Locations, id: i64) -> Result<Response, Error> {
    app.store.delete(id).await?;
    app.ids.remove(id);
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// A 201 whose `Location` is the collection's absolute URI, as the original sends.
async fn replace_all(app: &Locations, request: &Parts, body: Incoming) -> Result<Response, Error> {
    let inputs: Vec<LocationInput> = input(app, body).await?;
    let locations = LocationInput::validate_all(inputs, "").map_err(Problem::invalid)?;
    let ids = app.store.replace_all(&locations).await?;
    app.ids.replace(ids.clone());
    let created: Vec<_> = locations
        .into_iter()
        .zip(ids)
        .map(|(l, id)| l.with_id(id))
        .collect();
    let size = created.iter().map(|l| l.json_size()).sum::<usize>() + 2;
    let mut resp = response::json(StatusCode::CREATED, &created, size);
    if let Some(value) = kit::request_rules::location(request, "/api/locations") {
        resp.headers_mut().insert(header::LOCATION, value);
    }
    Ok(resp)
}

async fn delete_all(app: &Locations) -> Result<Response, Error> {
    app.store.delete_all().await?;
    app.ids.replace(Vec::new());
    Ok(response::empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_ids_that_are_no_integer_are_400_and_those_no_row_can_have_404() {
        for (raw, id) in [("42", 42), ("+42", 42), ("-42", -42)] {
            assert_eq!(row_id(raw).ok(), Some(id), "{raw}");
        }
        let problem = row_id("99999999999999999999").err();
        assert_eq!(
            problem.map(|p| (p.status.as_u16(), p.detail)),
            Some((404, "No location with id 99999999999999999999".into()))
        );
        assert_eq!(
            parse_id("99999999999999999999").ok(),
            Some(PathId::OutOfRange)
        );
        for raw in ["abc", "1.5", "", "+", "1e3"] {
            let status = row_id(raw).err().map(|p| p.status.as_u16());
            assert_eq!(status, Some(400), "{raw}");
        }
        assert_eq!(
            parse_name("Port%20Halcyon").ok().as_deref(),
            Some("Port Halcyon")
        );
        assert_eq!(parse_name("a+b").ok().as_deref(), Some("a+b"));
        let status = parse_name("%ff").err().map(|p| p.status.as_u16());
        assert_eq!(status, Some(400));
    }
}
