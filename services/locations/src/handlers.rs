//! One function per endpoint: read the request, call the store, shape the answer.
//! [`dispatch`] says which function serves which endpoint.

use std::borrow::Cow;

use http::{header, HeaderValue, StatusCode};
use kit::body::Incoming;
use kit::{response, Problem, Response};

use crate::{
    error::Error,
    model::{LocationInput, NewLocation},
    routes::Endpoint,
    store, State,
};

const HELLO: &str = "Hello Location Resource";

/// Runs the handler of `endpoint`; `body` is the request's.
pub async fn dispatch(
    state: &State,
    endpoint: Endpoint<'_>,
    body: Incoming,
) -> Result<Response, Error> {
    match endpoint {
        Endpoint::List => list(state).await,
        Endpoint::Create => create(state, body).await,
        Endpoint::ReplaceAll => replace_all(state, body).await,
        Endpoint::DeleteAll => delete_all(state).await,
        Endpoint::Hello => Ok(response::text(StatusCode::OK, HELLO)),
        Endpoint::RandomLocation | Endpoint::Random => random(state).await,
        Endpoint::ByName(name) => by_name(state, &parse_name(name)?).await,
        Endpoint::Get(id) => get(state, parse_id(id)?).await,
        Endpoint::Replace(id) => replace(state, parse_id(id)?, body).await,
        Endpoint::Patch(id) => patch(state, parse_id(id)?, body).await,
        Endpoint::Delete(id) => delete(state, parse_id(id)?).await,
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

/// A location id from the path; anything but decimal digits is the client's mistake.
fn parse_id(raw: &str) -> Result<i64, Problem> {
    kit::rules::path_id(raw)
        .ok_or_else(|| Problem::bad_request(format!("The id must be an integer, got '{raw}'")))
}

fn missing(id: i64) -> Error {
    Problem::not_found(format!("No location with id {id}")).into()
}

async fn input<T: serde::de::DeserializeOwned>(state: &State, body: Incoming) -> Result<T, Error> {
    Ok(kit::json::read_body(body, state.max_body_bytes).await?)
}

fn validated(input: LocationInput) -> Result<NewLocation, Error> {
    input
        .validate("")
        .map_err(|violations| Problem::invalid(violations).into())
}

async fn list(state: &State) -> Result<Response, Error> {
    let listing = state.listings.start()?;
    Ok(response::json_array(
        store::list(&state.pool, listing).await?,
    ))
}

async fn get(state: &State, id: i64) -> Result<Response, Error> {
    let location = store::get(&state.pool, id)
        .await?
        .ok_or_else(|| missing(id))?;
    Ok(response::json(
        StatusCode::OK,
        &location,
        location.json_size(),
    ))
}

async fn by_name(state: &State, name: &str) -> Result<Response, Error> {
    let location = store::by_name(&state.pool, name)
        .await?
        .ok_or_else(|| Problem::not_found(format!("No location named '{name}'")))?;
    Ok(response::json(
        StatusCode::OK,
        &location,
        location.json_size(),
    ))
}

async fn random(state: &State) -> Result<Response, Error> {
    let location = state
        .ids
        .pick(&state.pool)
        .await?
        .ok_or_else(|| Problem::not_found("There are no locations"))?;
    Ok(response::json(
        StatusCode::OK,
        &location,
        location.json_size(),
    ))
}

async fn create(state: &State, body: Incoming) -> Result<Response, Error> {
    let location = validated(input(state, body).await?)?;
    let id = store::insert(&state.pool, &location).await?;
    state.ids.insert(id);
    let location = location.with_id(id);
    let mut resp = response::json(StatusCode::CREATED, &location, location.json_size());
    if let Ok(path) = HeaderValue::try_from(format!("/api/locations/{id}")) {
        resp.headers_mut().insert(header::LOCATION, path);
    }
    Ok(resp)
}

async fn replace(state: &State, id: i64, body: Incoming) -> Result<Response, Error> {
    let location = validated(input(state, body).await?)?;
    if store::update(&state.pool, id, &location).await? {
        Ok(response::empty(StatusCode::NO_CONTENT))
    } else {
        Err(missing(id))
    }
}

async fn patch(state: &State, id: i64, body: Incoming) -> Result<Response, Error> {
    let changes: LocationInput = input(state, body).await?;
    let location = store::patch(&state.pool, id, |stored| {
        validated(changes.merged_over(stored))
    })
    .await?
    .ok_or_else(|| missing(id))?;
    let location = location.with_id(id);
    Ok(response::json(
        StatusCode::OK,
        &location,
        location.json_size(),
    ))
}

async fn delete(state: &State, id: i64) -> Result<Response, Error> {
    store::delete(&state.pool, id).await?;
    state.ids.remove(id);
    Ok(response::empty(StatusCode::NO_CONTENT))
}

async fn replace_all(state: &State, body: Incoming) -> Result<Response, Error> {
    let inputs: Vec<LocationInput> = input(state, body).await?;
    let mut locations = Vec::with_capacity(inputs.len());
    let mut violations = Vec::new();
    for (at, input) in inputs.into_iter().enumerate() {
        match input.validate(&format!("[{at}].")) {
            Ok(location) => locations.push(location),
            Err(found) => violations.extend(found),
        }
    }
    if !violations.is_empty() {
        return Err(Problem::invalid(violations).into());
    }
    let ids = store::replace_all(&state.pool, &locations).await?;
    state.ids.replace(ids.clone());
    let created: Vec<_> = locations
        .into_iter()
        .zip(ids)
        .map(|(l, id)| l.with_id(id))
        .collect();
    let size = created.iter().map(|l| l.json_size()).sum::<usize>() + 2;
    let mut resp = response::json(StatusCode::CREATED, &created, size);
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/api/locations"));
    Ok(resp)
}

async fn delete_all(state: &State) -> Result<Response, Error> {
    store::delete_all(&state.pool).await?;
    state.ids.replace(Vec::new());
    Ok(response::empty(StatusCode::NO_CONTENT))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parameters_are_parsed_or_refused_with_400() {
        assert_eq!(parse_id("42").ok(), Some(42));
        for raw in ["abc", "1.5", "99999999999999999999", "", "+42", "-42"] {
            let status = parse_id(raw).err().map(|p| p.status.as_u16());
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
