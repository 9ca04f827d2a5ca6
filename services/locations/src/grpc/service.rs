//! The `Locations` gRPC methods: the same reads and writes as the HTTP endpoints, through
//! the same store, random-pick set, listing bound, validation and admin token, so that
//! the two APIs never disagree about the table.

use std::{future::Future, sync::Arc, time::Instant};

use futures_util::StreamExt;
use kit::Problem;
use prost::Message;
use tonic::{Code, Request, Response, Status};

use super::{
    metrics::{Rpc, RpcMetrics},
    proto,
};
use crate::{
    error::grpc_status,
    handlers::HELLO,
    model::{self, LocationInput},
    Locations,
};

/// The `Locations` service over the HTTP side's state.
pub struct LocationsRpc {
    app: Arc<Locations>,
    /// `GRPC_MAX_RESPONSE_BYTES`: the bound `GetAllLocations` gathers its answer within.
    max_response_bytes: usize,
}

impl LocationsRpc {
    pub fn new(app: Arc<Locations>, max_response_bytes: usize) -> Self {
        Self {
            app,
            max_response_bytes,
        }
    }

    /// Runs one call and counts it under `rpc` with its status code; a call dropped before
    /// it answers (the request timeout, a client that went away) counts as CANCELLED.
    async fn counted<T>(
        &self,
        rpc: Rpc,
        call: impl Future<Output = Result<T, Status>>,
    ) -> Result<Response<T>, Status> {
        let mut counted = Counted {
            metrics: &self.app.grpc_metrics,
            rpc,
            started: Instant::now(),
            code: Code::Cancelled,
        };
        let result = call.await;
        counted.code = result.as_ref().map_or_else(Status::code, |_| Code::Ok);
        result.map(Response::new)
    }

    /// Refuses a write without the admin token, when one is configured.
    fn authorise<T>(&self, request: &Request<T>) -> Result<(), Status> {
        let authorization = request.metadata().get("authorization");
        if self
            .app
            .admin
            .permits_write(authorization.map(|value| value.as_bytes()))
        {
            Ok(())
        } else {
            Err(Status::unauthenticated(
                "This write needs authorization: Bearer with the admin token",
            ))
        }
    }

    /// Every location, within [`Self::max_response_bytes`]: rows are read as a stream
    /// holding a place among the listings, as the HTTP listing does, and gathering stops
    /// with RESOURCE_EXHAUSTED at the bound, so no table size makes the service hold more.
    async fn all(&self) -> Result<proto::LocationsList, Status> {
        let listing = self.app.listings.start().map_err(grpc_status)?;
        let rows = self.app.store.list(listing).await?;
        futures_util::pin_mut!(rows);
        let mut locations = Vec::new();
        let mut size = 0;
        while let Some(row) = rows.next().await {
            let location = message(row?);
            let len = location.encoded_len();
            size += 1 + prost::encoding::encoded_len_varint(len as u64) + len;
            if size > self.max_response_bytes {
                return Err(Status::resource_exhausted(format!(
                    "The locations do not fit in one message of at most {} bytes \
                     (GRPC_MAX_RESPONSE_BYTES); GET /api/locations streams them all",
                    self.max_response_bytes
                )));
            }
            locations.push(location);
        }
        Ok(proto::LocationsList { locations })
    }

    async fn replace_all(&self, list: proto::LocationsList) -> Result<(), Status> {
        let inputs = list.locations.into_iter().map(input);
        let locations = LocationInput::validate_all(inputs, "locations").map_err(|violations| {
            grpc_status(Problem {
                detail: "The locations are not valid".into(),
                ..Problem::invalid(violations)
            })
        })?;
        let ids = self.app.store.replace_all(&locations).await?;
        self.app.ids.replace(ids);
        Ok(())
    }
}

/// One call being counted: recorded when dropped, with the code it answered or
/// CANCELLED when it never did.
struct Counted<'a> {
    metrics: &'a RpcMetrics,
    rpc: Rpc,
    started: Instant,
    code: Code,
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.metrics
            .record(self.rpc, self.code, self.started.elapsed());
    }
}

#[tonic::async_trait]
impl proto::locations_server::Locations for LocationsRpc {
    async fn get_random_location(
        &self,
        _request: Request<proto::RandomLocationRequest>,
    ) -> Result<Response<proto::Location>, Status> {
        self.counted(Rpc::GetRandomLocation, async {
            let location = self.app.ids.pick(&self.app.store).await?;
            location
                .map(message)
                .ok_or_else(|| Status::not_found("There are no locations"))
        })
        .await
    }

    async fn get_all_locations(
        &self,
        _request: Request<proto::AllLocationsRequest>,
    ) -> Result<Response<proto::LocationsList>, Status> {
        self.counted(Rpc::GetAllLocations, self.all()).await
    }

    async fn delete_all_locations(
        &self,
        request: Request<proto::DeleteAllLocationsRequest>,
    ) -> Result<Response<proto::DeleteAllLocationsResponse>, Status> {
        self.counted(Rpc::DeleteAllLocations, async {
            self.authorise(&request)?;
            self.app.store.delete_all().await?;
            self.app.ids.replace(Vec::new());
            Ok(proto::DeleteAllLocationsResponse {})
        })
        .await
    }

    async fn get_location_by_name(
        &self,
        request: Request<proto::GetLocationRequest>,
    ) -> Result<Response<proto::Location>, Status> {
        self.counted(Rpc::GetLocationByName, async {
            let name = &request.get_ref().name;
            let location = self.app.store.by_name(name).await?;
            location
                .map(message)
                .ok_or_else(|| Status::not_found(format!("No location named '{name}'")))
        })
        .await
    }

    async fn replace_all_locations(
        &self,
        request: Request<proto::LocationsList>,
    ) -> Result<Response<proto::ReplaceAllLocationsResponse>, Status> {
        self.counted(Rpc::ReplaceAllLocations, async {
            self.authorise(&request)?;
            self.replace_all(request.into_inner()).await?;
            Ok(proto::ReplaceAllLocationsResponse {})
        })
        .await
    }

    async fn hello(
        &self,
        _request: Request<proto::HelloRequest>,
    ) -> Result<Response<proto::HelloReply>, Status> {
        self.counted(Rpc::Hello, async {
            Ok(proto::HelloReply {
                message: HELLO.to_owned(),
            })
        })
        .await
    }
}

/// A stored location as the message carries it: absent optional fields are empty
/// strings, as proto3 has no other way to say so.
fn message(location: model::Location) -> proto::Location {
    let kind = match location.kind {
        model::LocationType::Planet => proto::LocationType::Planet,
        model::LocationType::City => proto::LocationType::City,
        model::LocationType::Place => proto::LocationType::Place,
        model::LocationType::Island => proto::LocationType::Island,
        model::LocationType::Country => proto::LocationType::Country,
        model::LocationType::Moon => proto::LocationType::Moon,
    };
    proto::Location {
        name: location.name,
        description: location.description.unwrap_or_default(),
        picture: location.picture.unwrap_or_default(),
        r#type: kind.into(),
    }
}

/// A received location as the HTTP body would carry it, for the same validation: empty
/// strings are absent fields, and a type number the `.proto` file does not know is
/// spelled as the number, which the validation refuses.
fn input(location: proto::Location) -> LocationInput {
    let present = |text: String| (!text.is_empty()).then_some(text);
    let kind = proto::LocationType::try_from(location.r#type).map_or_else(
        |_| location.r#type.to_string(),
        |kind| kind.as_str_name().to_owned(),
    );
    LocationInput {
        _id: None,
        name: Some(location.name),
        description: present(location.description),
        picture: present(location.picture),
        kind: Some(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NewLocation;

    #[test]
    fn types_map_both_ways_by_name() {
        for kind in ["PLANET", "CITY", "PLACE", "ISLAND", "COUNTRY", "MOON"] {
            let stored = model::Location {
                id: 1,
                name: "Somewhere".into(),
                description: None,
                picture: Some("p.svg".into()),
                kind: model::LocationType::parse(kind).unwrap_or(model::LocationType::Moon),
            };
            let sent = message(stored);
            assert_eq!(
                proto::LocationType::try_from(sent.r#type).map(|t| t.as_str_name()),
                Ok(kind)
            );
            assert_eq!(sent.description, "");
            let back: Result<NewLocation, _> = input(sent).validate("");
            assert_eq!(
                back.map(|l| (l.kind.as_str(), l.picture)),
                Ok((kind, Some("p.svg".into())))
            );
        }
    }

    #[test]
    fn unknown_type_numbers_and_empty_names_are_violations() {
        let location = proto::Location {
            name: String::new(),
            r#type: 9,
            ..proto::Location::default()
        };
        let fields: Vec<_> = input(location)
            .validate("locations[0].")
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.field.into_owned())
            .collect();
        assert_eq!(fields, ["locations[0].name", "locations[0].type"]);
    }
}
