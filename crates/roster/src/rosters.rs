//! RosterService: the calling brand, its API keys, its rosters and their entries.

use chrono::Utc;
use resonance_core::ValidationError;
use resonance_core::campaign::{CreatorKey, PipelineStatus};
use resonance_core::error::WithinField;
use resonance_core::value::Deliverable;
use resonance_proto::convert;
use resonance_proto::paging::{fingerprint, page_of};
use resonance_proto::roster::roster_service_server::RosterService;
use resonance_proto::roster::{self as pb, PipelineStatus as PbStatus};
use resonance_proto::tonic::{Request, Response, Status};
use resonance_store::{
    ApiKeyInfo, EntryCreateError, EntryView, Rate, Roster, RosterEntry, RosterView, Store,
};

use crate::common::{
    ApiError, brand_of, change_failed, display_name, etag, from_wire, page, parse_etag, parse_name,
    request_id, to_wire, update_paths,
};

/// The longest roster description and entry notes.
const MAX_NOTES: usize = 5_000;
/// The most rates one entry may carry (one per deliverable kind).
const MAX_RATES: usize = 16;

/// RosterService over the store.
#[derive(Debug, Clone)]
pub struct RosterApi {
    store: Store,
}

impl RosterApi {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

fn status_of(raw: i32, field: &str) -> Result<Option<PipelineStatus>, ValidationError> {
    from_wire(
        raw,
        |v| PbStatus::try_from(v).ok().map(|s| s.as_str_name()),
        "PIPELINE_STATUS_",
        field,
    )
}

fn status_to_proto(status: PipelineStatus) -> i32 {
    to_wire(status.as_str(), "PIPELINE_STATUS_", |name| {
        PbStatus::from_str_name(name).map(|s| s as i32)
    })
}

fn roster_to_proto(view: &RosterView) -> pb::Roster {
    let roster = &view.roster;
    pb::Roster {
        name: format!("rosters/{}", roster.id),
        display_name: roster.value.display_name.clone(),
        description: roster.value.description.clone(),
        entry_count: i64::try_from(view.entry_count).unwrap_or(i64::MAX),
        create_time: Some(convert::timestamp(roster.created_at)),
        update_time: Some(convert::timestamp(roster.updated_at)),
        etag: etag(roster.version),
    }
}

fn entry_to_proto(view: &EntryView) -> pb::RosterEntry {
    let entry = &view.entry;
    pb::RosterEntry {
        name: format!("rosters/{}/entries/{}", entry.value.roster, entry.id),
        creator: Some(creator_ref(&entry.value.creator)),
        creator_name: view
            .creator_id
            .map(|id| format!("creators/{id}"))
            .unwrap_or_default(),
        status: status_to_proto(entry.value.status),
        notes: entry.value.notes.clone(),
        rates: entry
            .value
            .rates
            .iter()
            .map(|rate| pb::Rate {
                deliverable: rate.deliverable.as_str().to_owned(),
                price: Some(convert::money_from_micros(
                    &rate.price.currency,
                    rate.price.micros,
                )),
            })
            .collect(),
        create_time: Some(convert::timestamp(entry.created_at)),
        update_time: Some(convert::timestamp(entry.updated_at)),
        etag: etag(entry.version),
    }
}

pub(crate) fn creator_ref(key: &CreatorKey) -> resonance_proto::common::CreatorRef {
    resonance_proto::common::CreatorRef {
        platform: convert::platform_to_proto(key.platform) as i32,
        handle: key.handle.as_str().to_owned(),
    }
}

pub(crate) fn creator_key(
    value: Option<&resonance_proto::common::CreatorRef>,
    field: &str,
) -> Result<CreatorKey, ValidationError> {
    let value = value.ok_or_else(|| ValidationError::new(field, "is required"))?;
    let (platform, handle) = convert::creator_ref(value).within(field)?;
    Ok(CreatorKey { platform, handle })
}

fn key_to_proto(key: &ApiKeyInfo) -> pb::ApiKey {
    pb::ApiKey {
        name: format!("brands/{}/apiKeys/{}", key.brand.0, key.id),
        display_name: key.display_name.clone(),
        prefix: key.prefix.clone(),
        create_time: Some(convert::timestamp(key.created_at)),
        revoke_time: key.revoked_at.map(convert::timestamp),
    }
}

fn rates(values: &[pb::Rate], field: &str) -> Result<Vec<Rate>, ValidationError> {
    if values.len() > MAX_RATES {
        return Err(ValidationError::new(
            field,
            format!("must hold at most {MAX_RATES} rates"),
        ));
    }
    let mut parsed: Vec<Rate> = Vec::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        let at = format!("{field}[{index}]");
        let deliverable: Deliverable = value
            .deliverable
            .trim()
            .parse()
            .map_err(|e: ValidationError| e.within(&format!("{at}.deliverable")))?;
        if parsed.iter().any(|rate| rate.deliverable == deliverable) {
            return Err(ValidationError::new(
                format!("{at}.deliverable"),
                format!("{} has a rate already", deliverable.as_str()),
            ));
        }
        let price = value
            .price
            .as_ref()
            .ok_or_else(|| ValidationError::new(format!("{at}.price"), "is required"))?;
        parsed.push(Rate {
            deliverable,
            price: convert::money_micros(price).within(&format!("{at}.price"))?,
        });
    }
    Ok(parsed)
}

fn notes(value: &str, field: &str) -> Result<String, ValidationError> {
    if value.chars().count() > MAX_NOTES {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_NOTES} characters"),
        ));
    }
    Ok(value.to_owned())
}

impl RosterApi {
    async fn create_roster_inner(
        &self,
        request: Request<pb::CreateRosterRequest>,
    ) -> Result<pb::CreateRosterResponse, ApiError> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let roster = request
            .roster
            .as_ref()
            .ok_or_else(|| ValidationError::new("roster", "is required"))?;
        let value = Roster {
            display_name: display_name(&roster.display_name, "roster.display_name")?,
            description: notes(&roster.description, "roster.description")?,
        };
        let request_id = request_id(&request.request_id)?;
        let view = self
            .store
            .rosters()
            .create(brand, &value, request_id, Utc::now())
            .await?;
        Ok(pb::CreateRosterResponse {
            roster: Some(roster_to_proto(&view)),
        })
    }

    async fn update_roster_inner(
        &self,
        request: Request<pb::UpdateRosterRequest>,
    ) -> Result<pb::UpdateRosterResponse, ApiError> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let roster = request
            .roster
            .as_ref()
            .ok_or_else(|| ValidationError::new("roster", "is required"))?;
        let [id] = parse_name(&roster.name, "roster.name", ["rosters"])?;
        let expected = parse_etag(&roster.etag, "roster.etag")?;
        let paths = update_paths(
            request.update_mask.as_ref(),
            &[
                ("display_name", !roster.display_name.is_empty()),
                ("description", !roster.description.is_empty()),
            ],
            &["name", "entry_count", "create_time", "update_time", "etag"],
        )?;
        let new_name = if paths.contains(&"display_name") {
            Some(display_name(&roster.display_name, "roster.display_name")?)
        } else {
            None
        };
        let new_description = if paths.contains(&"description") {
            Some(notes(&roster.description, "roster.description")?)
        } else {
            None
        };
        let view = self
            .store
            .rosters()
            .update(brand, id, expected, Utc::now(), |current| {
                Ok::<_, ApiError>(Roster {
                    display_name: new_name
                        .clone()
                        .unwrap_or_else(|| current.value.display_name.clone()),
                    description: new_description
                        .clone()
                        .unwrap_or_else(|| current.value.description.clone()),
                })
            })
            .await
            .map_err(|e| change_failed(e, &roster.name))?;
        Ok(pb::UpdateRosterResponse {
            roster: Some(roster_to_proto(&view)),
        })
    }

    async fn create_entry_inner(
        &self,
        request: Request<pb::CreateRosterEntryRequest>,
    ) -> Result<pb::CreateRosterEntryResponse, ApiError> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let [roster] = parse_name(&request.parent, "parent", ["rosters"])?;
        let entry = request
            .entry
            .as_ref()
            .ok_or_else(|| ValidationError::new("entry", "is required"))?;
        let value = RosterEntry {
            roster,
            creator: creator_key(entry.creator.as_ref(), "entry.creator")?,
            status: status_of(entry.status, "entry.status")?.unwrap_or(PipelineStatus::Prospect),
            notes: notes(&entry.notes, "entry.notes")?,
            rates: rates(&entry.rates, "entry.rates")?,
        };
        let request_id = request_id(&request.request_id)?;
        let view = self
            .store
            .rosters()
            .create_entry(brand, &value, request_id, Utc::now())
            .await
            .map_err(|error| match error {
                EntryCreateError::RosterNotFound => ApiError::NotFound(request.parent.clone()),
                EntryCreateError::Duplicate(id) => ApiError::AlreadyExists(format!(
                    "{} {} is on the roster already as {}/entries/{id}",
                    value.creator.platform, value.creator.handle, request.parent
                )),
                EntryCreateError::Store(error) => ApiError::Store(error),
            })?;
        Ok(pb::CreateRosterEntryResponse {
            entry: Some(entry_to_proto(&view)),
        })
    }

    async fn update_entry_inner(
        &self,
        request: Request<pb::UpdateRosterEntryRequest>,
    ) -> Result<pb::UpdateRosterEntryResponse, ApiError> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let entry = request
            .entry
            .as_ref()
            .ok_or_else(|| ValidationError::new("entry", "is required"))?;
        let [roster, id] = parse_name(&entry.name, "entry.name", ["rosters", "entries"])?;
        let expected = parse_etag(&entry.etag, "entry.etag")?;
        let paths = update_paths(
            request.update_mask.as_ref(),
            &[
                ("status", entry.status != 0),
                ("notes", !entry.notes.is_empty()),
                ("rates", !entry.rates.is_empty()),
            ],
            &[
                "name",
                "creator",
                "creator_name",
                "create_time",
                "update_time",
                "etag",
            ],
        )?;
        let status = if paths.contains(&"status") {
            Some(
                status_of(entry.status, "entry.status")?
                    .ok_or_else(|| ValidationError::new("entry.status", "is required"))?,
            )
        } else {
            None
        };
        let new_notes = if paths.contains(&"notes") {
            Some(notes(&entry.notes, "entry.notes")?)
        } else {
            None
        };
        let new_rates = if paths.contains(&"rates") {
            Some(rates(&entry.rates, "entry.rates")?)
        } else {
            None
        };
        let view = self
            .store
            .rosters()
            .update_entry(brand, roster, id, expected, Utc::now(), |current| {
                let mut next = current.value.clone();
                if let Some(status) = status {
                    next.status = status;
                }
                if let Some(notes) = &new_notes {
                    next.notes.clone_from(notes);
                }
                if let Some(rates) = &new_rates {
                    next.rates.clone_from(rates);
                }
                Ok::<_, ApiError>(next)
            })
            .await
            .map_err(|e| change_failed(e, &entry.name))?;
        Ok(pb::UpdateRosterEntryResponse {
            entry: Some(entry_to_proto(&view)),
        })
    }
}

type RpcResult<T> = Result<Response<T>, Status>;

fn respond<T>(result: Result<T, ApiError>) -> RpcResult<T> {
    result.map(Response::new).map_err(Status::from)
}

#[resonance_proto::tonic::async_trait]
impl RosterService for RosterApi {
    async fn get_brand(
        &self,
        request: Request<pb::GetBrandRequest>,
    ) -> RpcResult<pb::GetBrandResponse> {
        let brand = brand_of(&request)?;
        let found = self
            .store
            .brands()
            .get(brand)
            .await
            .map_err(ApiError::from)?;
        let brand = found.ok_or_else(|| Status::unauthenticated("the API key's brand is gone"))?;
        Ok(Response::new(pb::GetBrandResponse {
            brand: Some(pb::Brand {
                name: format!("brands/{}", brand.id.0),
                display_name: brand.name,
                create_time: Some(convert::timestamp(brand.created_at)),
            }),
        }))
    }

    async fn create_api_key(
        &self,
        request: Request<pb::CreateApiKeyRequest>,
    ) -> RpcResult<pb::CreateApiKeyResponse> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let result = async {
            let name = request.display_name.trim();
            if name.chars().count() > 200 {
                return Err(
                    ValidationError::new("display_name", "must be at most 200 characters").into(),
                );
            }
            let request_id = request_id(&request.request_id)?;
            let (key, secret) = self
                .store
                .brands()
                .create_key(brand, name, request_id, Utc::now())
                .await?;
            Ok(pb::CreateApiKeyResponse {
                api_key: Some(key_to_proto(&key)),
                secret: secret.unwrap_or_default(),
            })
        };
        respond(result.await)
    }

    async fn list_api_keys(
        &self,
        request: Request<pb::ListApiKeysRequest>,
    ) -> RpcResult<pb::ListApiKeysResponse> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let result = async {
            let print = fingerprint("ListApiKeys", &pb::ListApiKeysRequest::default());
            let (size, after) = page(request.page_size, &request.page_token, print)?;
            let keys = self.store.brands().keys(brand, after, size + 1).await?;
            let (keys, next_page_token) = page_of(keys, size, |k| k.id, print);
            Ok(pb::ListApiKeysResponse {
                next_page_token,
                api_keys: keys.iter().map(key_to_proto).collect(),
            })
        };
        respond(result.await)
    }

    async fn revoke_api_key(
        &self,
        request: Request<pb::RevokeApiKeyRequest>,
    ) -> RpcResult<pb::RevokeApiKeyResponse> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let result = async {
            let [owner, id] = parse_name(&request.name, "name", ["brands", "apiKeys"])?;
            if owner != brand.0 {
                return Err(ApiError::NotFound(request.name.clone()));
            }
            let key = self
                .store
                .brands()
                .revoke(brand, id, Utc::now())
                .await?
                .ok_or_else(|| ApiError::NotFound(request.name.clone()))?;
            Ok(pb::RevokeApiKeyResponse {
                api_key: Some(key_to_proto(&key)),
            })
        };
        respond(result.await)
    }

    async fn create_roster(
        &self,
        request: Request<pb::CreateRosterRequest>,
    ) -> RpcResult<pb::CreateRosterResponse> {
        respond(self.create_roster_inner(request).await)
    }

    async fn get_roster(
        &self,
        request: Request<pb::GetRosterRequest>,
    ) -> RpcResult<pb::GetRosterResponse> {
        let brand = brand_of(&request)?;
        let name = request.into_inner().name;
        let result = async {
            let [id] = parse_name(&name, "name", ["rosters"])?;
            let view = self
                .store
                .rosters()
                .get(brand, id)
                .await?
                .ok_or_else(|| ApiError::NotFound(name.clone()))?;
            Ok(pb::GetRosterResponse {
                roster: Some(roster_to_proto(&view)),
            })
        };
        respond(result.await)
    }

    async fn list_rosters(
        &self,
        request: Request<pb::ListRostersRequest>,
    ) -> RpcResult<pb::ListRostersResponse> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let result = async {
            let print = fingerprint("ListRosters", &pb::ListRostersRequest::default());
            let (size, after) = page(request.page_size, &request.page_token, print)?;
            let rosters = self.store.rosters().list(brand, after, size + 1).await?;
            let (rosters, next_page_token) = page_of(rosters, size, |r| r.roster.id, print);
            Ok(pb::ListRostersResponse {
                next_page_token,
                rosters: rosters.iter().map(roster_to_proto).collect(),
            })
        };
        respond(result.await)
    }

    async fn update_roster(
        &self,
        request: Request<pb::UpdateRosterRequest>,
    ) -> RpcResult<pb::UpdateRosterResponse> {
        respond(self.update_roster_inner(request).await)
    }

    async fn delete_roster(
        &self,
        request: Request<pb::DeleteRosterRequest>,
    ) -> RpcResult<pb::DeleteRosterResponse> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let result = async {
            let [id] = parse_name(&request.name, "name", ["rosters"])?;
            let expected = parse_etag(&request.etag, "etag")?;
            self.store
                .rosters()
                .delete(brand, id, expected)
                .await
                .map_err(|e| change_failed(e, &request.name))?;
            Ok(pb::DeleteRosterResponse {})
        };
        respond(result.await)
    }

    async fn create_roster_entry(
        &self,
        request: Request<pb::CreateRosterEntryRequest>,
    ) -> RpcResult<pb::CreateRosterEntryResponse> {
        respond(self.create_entry_inner(request).await)
    }

    async fn get_roster_entry(
        &self,
        request: Request<pb::GetRosterEntryRequest>,
    ) -> RpcResult<pb::GetRosterEntryResponse> {
        let brand = brand_of(&request)?;
        let name = request.into_inner().name;
        let result = async {
            let [roster, id] = parse_name(&name, "name", ["rosters", "entries"])?;
            let view = self
                .store
                .rosters()
                .get_entry(brand, roster, id)
                .await?
                .ok_or_else(|| ApiError::NotFound(name.clone()))?;
            Ok(pb::GetRosterEntryResponse {
                entry: Some(entry_to_proto(&view)),
            })
        };
        respond(result.await)
    }

    async fn list_roster_entries(
        &self,
        request: Request<pb::ListRosterEntriesRequest>,
    ) -> RpcResult<pb::ListRosterEntriesResponse> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let result = async {
            let [roster] = parse_name(&request.parent, "parent", ["rosters"])?;
            let statuses = request
                .statuses
                .iter()
                .enumerate()
                .map(|(index, raw)| {
                    let field = format!("statuses[{index}]");
                    status_of(*raw, &field)?
                        .ok_or_else(|| ValidationError::new(field, "must not be unspecified"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let print = fingerprint(
                "ListRosterEntries",
                &pb::ListRosterEntriesRequest {
                    page_size: 0,
                    page_token: String::new(),
                    ..request.clone()
                },
            );
            let (size, after) = page(request.page_size, &request.page_token, print)?;
            let entries = self
                .store
                .rosters()
                .list_entries(brand, roster, &statuses, after, size + 1)
                .await?
                .ok_or_else(|| ApiError::NotFound(request.parent.clone()))?;
            let (entries, next_page_token) = page_of(entries, size, |e| e.entry.id, print);
            Ok(pb::ListRosterEntriesResponse {
                next_page_token,
                entries: entries.iter().map(entry_to_proto).collect(),
            })
        };
        respond(result.await)
    }

    async fn update_roster_entry(
        &self,
        request: Request<pb::UpdateRosterEntryRequest>,
    ) -> RpcResult<pb::UpdateRosterEntryResponse> {
        respond(self.update_entry_inner(request).await)
    }

    async fn delete_roster_entry(
        &self,
        request: Request<pb::DeleteRosterEntryRequest>,
    ) -> RpcResult<pb::DeleteRosterEntryResponse> {
        let brand = brand_of(&request)?;
        let request = request.into_inner();
        let result = async {
            let [roster, id] = parse_name(&request.name, "name", ["rosters", "entries"])?;
            let expected = parse_etag(&request.etag, "etag")?;
            self.store
                .rosters()
                .delete_entry(brand, roster, id, expected)
                .await
                .map_err(|e| change_failed(e, &request.name))?;
            Ok(pb::DeleteRosterEntryResponse {})
        };
        respond(result.await)
    }
}
