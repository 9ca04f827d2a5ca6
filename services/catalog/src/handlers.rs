//! The catalogue endpoints: each reads its input, calls the store, keeps the random-id
//! set in step with its own writes, and answers as the OpenAPI document says.
//! [`dispatch`] says which function serves which endpoint.

use http::{header, request::Parts, StatusCode};
use kit::body::Incoming;
use kit::field_rules::{NotAnInteger, PathId};
use kit::{response, Problem, Response};

use crate::{
    model::{validate_all, validate_one, Character, Input},
    routes::Endpoint,
    Catalog, Error,
};

type Result<T> = std::result::Result<T, Error>;

/// Runs the handler of `endpoint`; `query` and `body` are the request's.
pub async fn dispatch(
    app: &Catalog,
    endpoint: Endpoint<'_>,
    request: &Parts,
    body: Incoming,
) -> Result<Response> {
    match endpoint {
        Endpoint::List => list(app, request.uri.query()).await,
        Endpoint::Create => create(app, request, body).await,
        Endpoint::ReplaceAll => replace_all(app, request, body).await,
        Endpoint::DeleteAll => delete_all(app).await,
        Endpoint::Hello => Ok(response::text(StatusCode::OK, app.side.hello)),
        Endpoint::RandomOfKind | Endpoint::Random => random(app).await,
        Endpoint::Get(id) => get(app, row_id(app, id)?).await,
        Endpoint::Replace(id) => update(app, row_id(app, id)?, body).await,
        Endpoint::Patch(id) => patch(app, row_id(app, id)?, body).await,
        Endpoint::Delete(id) => match parse_id(app, id)? {
            PathId::InRange(id) => delete(app, id).await,
            PathId::OutOfRange => Ok(response::empty(StatusCode::NO_CONTENT)),
        },
        Endpoint::Picture(file) => picture(file),
    }
}

/// A seed row's portrait; any other file name is a 404 like an unknown path.
fn picture(file: &str) -> Result<Response> {
    kit::portrait::response(file)
        .ok_or_else(|| Problem::not_found(format!("No picture named '{file}'")).into())
}

/// An id from the path; text that is no integer is the client's mistake.
fn parse_id(app: &Catalog, raw: &str) -> Result<PathId> {
    kit::field_rules::path_id(raw).map_err(|NotAnInteger| {
        Problem::bad_request(format!(
            "The {} id must be an integer, got '{raw}'",
            app.side.noun
        ))
        .into()
    })
}

/// The id of a row to read or change; an integer beyond `i64` names no row, the same 404
/// as any absent one.
fn row_id(app: &Catalog, raw: &str) -> Result<i64> {
    match parse_id(app, raw)? {
        PathId::InRange(id) => Ok(id),
        PathId::OutOfRange => Err(Problem::not_found_id(app.side.noun, raw).into()),
    }
}

async fn list(app: &Catalog, query: Option<&str>) -> Result<Response> {
    let filter = kit::query::param(query, "name_filter")?;
    if filter.as_deref().is_some_and(|f| f.contains('\0')) {
        return Err(Problem::bad_request("name_filter must not contain NUL characters").into());
    }
    Ok(response::json_array(
        app.store.list(filter.as_deref()).await?,
    ))
}

async fn get(app: &Catalog, id: i64) -> Result<Response> {
    match app.store.get(id).await? {
        Some(row) => Ok(one(StatusCode::OK, &row)),
        None => Err(Error::from(Problem::not_found_id(app.side.noun, id))),
    }
}

/// A uniformly random row, drawn from the id set the table's notifications keep
/// current (see [`kit::RandomIds::pick_row`] for what happens when it is not).
async fn random(app: &Catalog) -> Result<Response> {
    let reload = || async {
        app.ids.replace(app.store.ids().await?);
        Ok(())
    };
    match app.ids.pick_row(|id| app.store.get(id), reload).await? {
        Some(row) => Ok(one(StatusCode::OK, &row)),
        None => Err(Problem::not_found(format!("No {} found", app.side.noun)).into()),
    }
}

/// A 201 whose `Location` is the new row's absolute URI, as the original sends.
async fn create(app: &Catalog, request: &Parts, body: Incoming) -> Result<Response> {
    let fields = validate_one(read(app, body).await?)?;
    let id = app.store.insert(&fields).await?;
    app.ids.insert(id);
    let mut resp = one(StatusCode::CREATED, &fields.with_id(id));
    let path = format!("{}/{id}", app.side.base);
    if let Some(value) = kit::request_rules::location(request, &path) {
        resp.headers_mut().insert(header::LOCATION, value);
    }
    Ok(resp)
}

async fn update(app: &Catalog, id: i64, body: Incoming) -> Result<Response> {
    let fields = validate_one(read(app, body).await?)?;
    if app.store.update(id, &fields).await? {
        Ok(response::empty(StatusCode::NO_CONTENT))
    } else {
        Err(Error::from(Problem::not_found_id(app.side.noun, id)))
    }
}

async fn patch(app: &Catalog, id: i64, body: Incoming) -> Result<Response> {
    let input = read(app, body).await?;
    match app.store.patch(id, input).await? {
        Some(row) => Ok(one(StatusCode::OK, &row)),
        None => Err(Error::from(Problem::not_found_id(app.side.noun, id))),
    }
}

async fn delete(app: &Catalog, id: i64) -> Result<Response> {
    app.store.delete(id).await?;
    app.ids.remove(id);
    Ok(response::empty(StatusCode::NO_CONTENT))
}

/// A 201 whose `Location` is the collection's absolute URI, as the original sends.
async fn replace_all(app: &Catalog, request: &Parts, body: Incoming) -> Result<Response> {
    let inputs: Vec<Input> = kit::json::read_body(body, app.max_body).await?;
    let created = app.store.replace_all(validate_all(inputs)?).await?;
    app.ids.replace(created.iter().map(|c| c.id));
    let mut resp = response::json(
        StatusCode::CREATED,
        &created,
        created.iter().map(Character::json_size).sum::<usize>() + 2,
    );
    if let Some(value) = kit::request_rules::location(request, app.side.base) {
        resp.headers_mut().insert(header::LOCATION, value);
    }
    Ok(resp)
}

async fn delete_all(app: &Catalog) -> Result<Response> {
    app.store.delete_all().await?;
    app.ids.replace([]);
    Ok(response::empty(StatusCode::NO_CONTENT))
}

async fn read(app: &Catalog, body: Incoming) -> Result<Input> {
    Ok(kit::json::read_body(body, app.max_body).await?)
}

fn one(status: StatusCode, row: &Character) -> Response {
    response::json(status, row, row.json_size())
}
