//! Rosters: a brand's shortlists of creators, with an entry per creator.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use resonance_core::campaign::{CreatorKey, Money, PipelineStatus};
use resonance_core::value::Deliverable;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::StoreError;
use crate::brands::BrandId;
use crate::entity::{roster, roster_entry};
use crate::owned::{
    ChangeError, Owned, create_once, creator_ids, creator_key, not_deleted, parse_named,
    update_versioned,
};

/// A shortlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    pub display_name: String,
    pub description: String,
}

/// A negotiated price for one kind of deliverable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rate {
    pub deliverable: Deliverable,
    pub price: Money,
}

/// A creator on a roster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterEntry {
    pub roster: i64,
    pub creator: CreatorKey,
    pub status: PipelineStatus,
    pub notes: String,
    pub rates: Vec<Rate>,
}

/// A roster with its number of entries.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterView {
    pub roster: Owned<Roster>,
    pub entry_count: u64,
}

/// An entry with the stored creator it names, once the platform knows the creator.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryView {
    pub entry: Owned<RosterEntry>,
    pub creator_id: Option<i64>,
}

/// Why an entry could not be created.
#[derive(Debug, thiserror::Error)]
pub enum EntryCreateError {
    #[error("no such roster")]
    RosterNotFound,
    #[error("the creator is on the roster already (entry {0})")]
    Duplicate(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Serialize, Deserialize)]
struct StoredRate {
    deliverable: String,
    currency: String,
    micros: i64,
}

fn rates_json(rates: &[Rate]) -> String {
    let stored: Vec<StoredRate> = rates
        .iter()
        .map(|rate| StoredRate {
            deliverable: rate.deliverable.as_str().to_owned(),
            currency: rate.price.currency.clone(),
            micros: rate.price.micros,
        })
        .collect();
    serde_json::to_string(&stored).unwrap_or_else(|_| "[]".to_owned())
}

fn parse_rates(raw: &str) -> Result<Vec<Rate>, StoreError> {
    let corrupt = |e: String| StoreError::Corrupt(format!("roster_entries.rates: {e}"));
    let stored: Vec<StoredRate> = serde_json::from_str(raw).map_err(|e| corrupt(e.to_string()))?;
    stored
        .into_iter()
        .map(|rate| {
            Ok(Rate {
                deliverable: rate
                    .deliverable
                    .parse()
                    .map_err(|e| corrupt(format!("{e}")))?,
                price: Money::new(&rate.currency, rate.micros)
                    .map_err(|e| corrupt(e.to_string()))?,
            })
        })
        .collect()
}

fn roster_from_row(row: roster::Model) -> Owned<Roster> {
    Owned {
        id: row.id,
        brand: BrandId(row.brand_id),
        value: Roster {
            display_name: row.display_name,
            description: row.description,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    }
}

fn entry_from_row(row: roster_entry::Model) -> Result<Owned<RosterEntry>, StoreError> {
    Ok(Owned {
        id: row.id,
        brand: BrandId(row.brand_id),
        value: RosterEntry {
            roster: row.roster_id,
            creator: creator_key(&row.platform, &row.handle, "roster_entries")?,
            status: parse_named(&row.status, "roster_entries.status")?,
            notes: row.notes,
            rates: parse_rates(&row.rates)?,
        },
        created_at: row.created_at,
        updated_at: row.updated_at,
        version: row.version,
    })
}

fn entry_columns(entry: &RosterEntry) -> roster_entry::ActiveModel {
    roster_entry::ActiveModel {
        status: Set(entry.status.as_str().to_owned()),
        notes: Set(entry.notes.clone()),
        rates: Set(rates_json(&entry.rates)),
        ..Default::default()
    }
}

/// Rosters and entries of brands. Every call takes the brand: another brand's ids are absent.
#[derive(Debug)]
pub struct RosterRepo<'a> {
    pub(crate) db: &'a DatabaseConnection,
}

impl RosterRepo<'_> {
    async fn find_roster(
        &self,
        brand: BrandId,
        id: i64,
    ) -> Result<Option<Owned<Roster>>, StoreError> {
        Ok(roster::Entity::find_by_id(id)
            .filter(roster::Column::BrandId.eq(brand.0))
            .one(self.db)
            .await?
            .map(roster_from_row))
    }

    async fn counts(&self, roster_ids: Vec<i64>) -> Result<HashMap<i64, u64>, StoreError> {
        if roster_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(i64, i64)> = roster_entry::Entity::find()
            .select_only()
            .column(roster_entry::Column::RosterId)
            .column_as(roster_entry::Column::Id.count(), "entries")
            .filter(roster_entry::Column::RosterId.is_in(roster_ids))
            .group_by(roster_entry::Column::RosterId)
            .into_tuple()
            .all(self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, count)| (id, u64::try_from(count).unwrap_or_default()))
            .collect())
    }

    async fn view(&self, roster: Owned<Roster>) -> Result<RosterView, StoreError> {
        let entry_count = roster_entry::Entity::find()
            .filter(roster_entry::Column::RosterId.eq(roster.id))
            .count(self.db)
            .await?;
        Ok(RosterView {
            roster,
            entry_count,
        })
    }

    pub async fn create(
        &self,
        brand: BrandId,
        value: &Roster,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<RosterView, StoreError> {
        let roster = create_once(
            request_id,
            |request_id| async move {
                Ok(roster::Entity::find()
                    .filter(roster::Column::BrandId.eq(brand.0))
                    .filter(roster::Column::RequestId.eq(request_id))
                    .one(self.db)
                    .await?
                    .map(roster_from_row))
            },
            || async {
                let row = roster::ActiveModel {
                    brand_id: Set(brand.0),
                    display_name: Set(value.display_name.clone()),
                    description: Set(value.description.clone()),
                    request_id: Set(request_id.map(str::to_owned)),
                    created_at: Set(now),
                    updated_at: Set(now),
                    version: Set(1),
                    ..Default::default()
                };
                let row = crate::bounded(self.db, async |txn| Ok(row.insert(txn).await?)).await?;
                Ok(roster_from_row(row))
            },
        )
        .await?;
        self.view(roster).await
    }

    /// Whether the brand has this roster (without counting its entries).
    pub async fn exists(&self, brand: BrandId, id: i64) -> Result<bool, StoreError> {
        Ok(self.find_roster(brand, id).await?.is_some())
    }

    pub async fn get(&self, brand: BrandId, id: i64) -> Result<Option<RosterView>, StoreError> {
        match self.find_roster(brand, id).await? {
            Some(roster) => Ok(Some(self.view(roster).await?)),
            None => Ok(None),
        }
    }

    /// The brand's rosters in creation order, after the roster `after`.
    pub async fn list(
        &self,
        brand: BrandId,
        after: Option<i64>,
        limit: u64,
    ) -> Result<Vec<RosterView>, StoreError> {
        let rows = roster::Entity::find()
            .filter(roster::Column::BrandId.eq(brand.0))
            .filter(roster::Column::Id.gt(after.unwrap_or(0)))
            .order_by_asc(roster::Column::Id)
            .limit(limit)
            .all(self.db)
            .await?;
        let counts = self.counts(rows.iter().map(|row| row.id).collect()).await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let entry_count = counts.get(&row.id).copied().unwrap_or_default();
                RosterView {
                    roster: roster_from_row(row),
                    entry_count,
                }
            })
            .collect())
    }

    pub async fn update<E>(
        &self,
        brand: BrandId,
        id: i64,
        expected: Option<i64>,
        now: DateTime<Utc>,
        apply: impl FnMut(&Owned<Roster>) -> Result<Roster, E>,
    ) -> Result<RosterView, ChangeError<E>> {
        let roster = update_versioned(
            expected,
            now,
            || self.find_roster(brand, id),
            apply,
            |version, next: Owned<Roster>| async move {
                let update = roster::Entity::update_many()
                    .set(roster::ActiveModel {
                        display_name: Set(next.value.display_name.clone()),
                        description: Set(next.value.description.clone()),
                        updated_at: Set(next.updated_at),
                        version: Set(next.version),
                        ..Default::default()
                    })
                    .filter(roster::Column::Id.eq(id))
                    .filter(roster::Column::BrandId.eq(brand.0))
                    .filter(roster::Column::Version.eq(version));
                let result =
                    crate::bounded(self.db, async |txn| Ok(update.exec(txn).await?)).await?;
                Ok(result.rows_affected == 1)
            },
        )
        .await?;
        Ok(self.view(roster).await?)
    }

    /// Deletes a roster with its entries; campaigns that planned from it keep their data.
    pub async fn delete(
        &self,
        brand: BrandId,
        id: i64,
        expected: Option<i64>,
    ) -> Result<(), ChangeError<std::convert::Infallible>> {
        let mut delete = roster::Entity::delete_many()
            .filter(roster::Column::Id.eq(id))
            .filter(roster::Column::BrandId.eq(brand.0));
        if let Some(version) = expected {
            delete = delete.filter(roster::Column::Version.eq(version));
        }
        let deleted = crate::bounded(self.db, async |txn| Ok(delete.exec(txn).await?)).await?;
        if deleted.rows_affected == 1 {
            return Ok(());
        }
        Err(not_deleted(self.find_roster(brand, id).await?))
    }

    async fn find_entry(
        &self,
        brand: BrandId,
        roster_id: i64,
        entry_id: i64,
    ) -> Result<Option<Owned<RosterEntry>>, StoreError> {
        roster_entry::Entity::find_by_id(entry_id)
            .filter(roster_entry::Column::BrandId.eq(brand.0))
            .filter(roster_entry::Column::RosterId.eq(roster_id))
            .one(self.db)
            .await?
            .map(entry_from_row)
            .transpose()
    }

    async fn entry_views(
        &self,
        entries: Vec<Owned<RosterEntry>>,
    ) -> Result<Vec<EntryView>, StoreError> {
        let keys: Vec<CreatorKey> = entries.iter().map(|e| e.value.creator.clone()).collect();
        let ids = creator_ids(self.db, &keys).await?;
        Ok(entries
            .into_iter()
            .map(|entry| EntryView {
                creator_id: ids.get(&entry.value.creator).copied(),
                entry,
            })
            .collect())
    }

    async fn entry_view(&self, entry: Owned<RosterEntry>) -> Result<EntryView, StoreError> {
        let mut views = self.entry_views(vec![entry]).await?;
        views
            .pop()
            .ok_or_else(|| StoreError::Corrupt("an entry vanished while being read".to_owned()))
    }

    /// Adds a creator to a roster (by platform and handle, known to the platform or not).
    pub async fn create_entry(
        &self,
        brand: BrandId,
        entry: &RosterEntry,
        request_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<EntryView, EntryCreateError> {
        let find_by_request = |request_id: String| async move {
            roster_entry::Entity::find()
                .filter(roster_entry::Column::BrandId.eq(brand.0))
                .filter(roster_entry::Column::RequestId.eq(request_id))
                .one(self.db)
                .await?
                .map(entry_from_row)
                .transpose()
        };
        let duplicate = || async {
            Ok::<_, StoreError>(
                roster_entry::Entity::find()
                    .select_only()
                    .column(roster_entry::Column::Id)
                    .filter(roster_entry::Column::RosterId.eq(entry.roster))
                    .filter(roster_entry::Column::Platform.eq(entry.creator.platform.as_str()))
                    .filter(roster_entry::Column::Handle.eq(entry.creator.handle.as_str()))
                    .into_tuple::<i64>()
                    .one(self.db)
                    .await?,
            )
        };
        // An earlier create with this request id answers first; then the roster must exist
        // and hold no entry for the creator.
        let find = &find_by_request;
        let created = create_once(
            request_id,
            |request_id| async move { Ok(find(request_id).await?.map(Ok)) },
            || async {
                if self.find_roster(brand, entry.roster).await?.is_none() {
                    return Ok(Err(EntryCreateError::RosterNotFound));
                }
                if let Some(existing) = duplicate().await? {
                    return Ok(Err(EntryCreateError::Duplicate(existing)));
                }
                let row = roster_entry::ActiveModel {
                    brand_id: Set(brand.0),
                    roster_id: Set(entry.roster),
                    platform: Set(entry.creator.platform.as_str().to_owned()),
                    handle: Set(entry.creator.handle.as_str().to_owned()),
                    request_id: Set(request_id.map(str::to_owned)),
                    created_at: Set(now),
                    updated_at: Set(now),
                    version: Set(1),
                    ..entry_columns(entry)
                };
                let row = crate::bounded(self.db, async |txn| Ok(row.insert(txn).await?)).await?;
                Ok(Ok(entry_from_row(row)?))
            },
        )
        .await;
        match created {
            Ok(Ok(entry)) => Ok(self.entry_view(entry).await?),
            // A concurrent retry of this very request may have made the entry meanwhile.
            Ok(Err(EntryCreateError::Duplicate(existing))) => match request_id {
                Some(request_id) => match find_by_request(request_id.to_owned()).await? {
                    Some(found) => Ok(self.entry_view(found).await?),
                    None => Err(EntryCreateError::Duplicate(existing)),
                },
                None => Err(EntryCreateError::Duplicate(existing)),
            },
            Ok(Err(error)) => Err(error),
            // A creator added concurrently, or the roster deleted meanwhile (the foreign key).
            Err(StoreError::Refused(error)) => {
                if let Some(existing) = duplicate().await? {
                    Err(EntryCreateError::Duplicate(existing))
                } else if self.find_roster(brand, entry.roster).await?.is_none() {
                    Err(EntryCreateError::RosterNotFound)
                } else {
                    Err(StoreError::Refused(error).into())
                }
            }
            Err(error) => Err(error.into()),
        }
    }

    pub async fn get_entry(
        &self,
        brand: BrandId,
        roster_id: i64,
        entry_id: i64,
    ) -> Result<Option<EntryView>, StoreError> {
        match self.find_entry(brand, roster_id, entry_id).await? {
            Some(entry) => Ok(Some(self.entry_view(entry).await?)),
            None => Ok(None),
        }
    }

    /// A roster's entries in the order they were added, after the entry `after`, only in
    /// `statuses` when any are given. `None` when the brand has no such roster.
    pub async fn list_entries(
        &self,
        brand: BrandId,
        roster_id: i64,
        statuses: &[PipelineStatus],
        after: Option<i64>,
        limit: u64,
    ) -> Result<Option<Vec<EntryView>>, StoreError> {
        if self.find_roster(brand, roster_id).await?.is_none() {
            return Ok(None);
        }
        let mut query = roster_entry::Entity::find()
            .filter(roster_entry::Column::BrandId.eq(brand.0))
            .filter(roster_entry::Column::RosterId.eq(roster_id))
            .filter(roster_entry::Column::Id.gt(after.unwrap_or(0)));
        if !statuses.is_empty() {
            query = query
                .filter(roster_entry::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
        }
        let entries = query
            .order_by_asc(roster_entry::Column::Id)
            .limit(limit)
            .all(self.db)
            .await?
            .into_iter()
            .map(entry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(self.entry_views(entries).await?))
    }

    /// Updates an entry's status, notes and rates (its creator stays).
    pub async fn update_entry<E>(
        &self,
        brand: BrandId,
        roster_id: i64,
        entry_id: i64,
        expected: Option<i64>,
        now: DateTime<Utc>,
        apply: impl FnMut(&Owned<RosterEntry>) -> Result<RosterEntry, E>,
    ) -> Result<EntryView, ChangeError<E>> {
        let entry = update_versioned(
            expected,
            now,
            || self.find_entry(brand, roster_id, entry_id),
            apply,
            |version, next: Owned<RosterEntry>| async move {
                let update = roster_entry::Entity::update_many()
                    .set(roster_entry::ActiveModel {
                        updated_at: Set(next.updated_at),
                        version: Set(next.version),
                        ..entry_columns(&next.value)
                    })
                    .filter(roster_entry::Column::Id.eq(entry_id))
                    .filter(roster_entry::Column::BrandId.eq(brand.0))
                    .filter(roster_entry::Column::Version.eq(version));
                let result =
                    crate::bounded(self.db, async |txn| Ok(update.exec(txn).await?)).await?;
                Ok(result.rows_affected == 1)
            },
        )
        .await?;
        Ok(self.entry_view(entry).await?)
    }

    pub async fn delete_entry(
        &self,
        brand: BrandId,
        roster_id: i64,
        entry_id: i64,
        expected: Option<i64>,
    ) -> Result<(), ChangeError<std::convert::Infallible>> {
        let mut delete = roster_entry::Entity::delete_many()
            .filter(roster_entry::Column::Id.eq(entry_id))
            .filter(roster_entry::Column::RosterId.eq(roster_id))
            .filter(roster_entry::Column::BrandId.eq(brand.0));
        if let Some(version) = expected {
            delete = delete.filter(roster_entry::Column::Version.eq(version));
        }
        let deleted = crate::bounded(self.db, async |txn| Ok(delete.exec(txn).await?)).await?;
        if deleted.rows_affected == 1 {
            return Ok(());
        }
        Err(not_deleted(
            self.find_entry(brand, roster_id, entry_id).await?,
        ))
    }
}
