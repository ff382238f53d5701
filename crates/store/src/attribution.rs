//! Attributing posts to active campaigns, kept in `campaign_posts`.
//!
//! A post is attributed to an active campaign and its creator when it was published on an
//! account the campaign took over, inside the takeover's window, or inside the campaign window
//! with one of the campaign's branded hashtags or mentions (the rules of
//! `resonance_core::campaign::report`). Ingestion attributes each post it creates or updates
//! in the same transaction (an edit that drops the hashtag removes the attribution); a
//! campaign that becomes active, or an active campaign whose terms or takeovers change, is
//! attributed afresh from the stored posts ([`reattribute`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use resonance_core::campaign::Window;
use resonance_core::{Handle, Platform};
use sea_orm::DatabaseConnection;

use crate::StoreError;
use crate::creators::Key;
use crate::posts::Input;

/// Why a post is a campaign's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    Takeover,
    Hashtag,
    Mention,
}

impl MatchedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchedBy::Takeover => "takeover",
            MatchedBy::Hashtag => "hashtag",
            MatchedBy::Mention => "mention",
        }
    }

    pub(crate) fn parse(raw: &str) -> Result<Self, StoreError> {
        match raw {
            "takeover" => Ok(MatchedBy::Takeover),
            "hashtag" => Ok(MatchedBy::Hashtag),
            "mention" => Ok(MatchedBy::Mention),
            other => Err(StoreError::Corrupt(format!(
                "campaign_posts.matched_by: {other:?}"
            ))),
        }
    }
}

/// A campaign's row as attribution reads it: id, window start and end, hashtags and mentions
/// (JSON lists).
type CampaignRow = (i64, DateTime<Utc>, DateTime<Utc>, String, String);
/// A candidate post for re-attribution: id, creator id, posted time, hashtags, mentions.
type Candidate = (i64, i64, DateTime<Utc>, String, String);
/// A takeover's row: campaign id, account platform and handle, window start and end.
type TakeoverRow = (i64, String, String, DateTime<Utc>, DateTime<Utc>);

/// What attributes posts to one active campaign.
#[derive(Debug, Clone)]
pub(crate) struct Tracker {
    pub campaign_id: i64,
    pub window: Window,
    /// Lowercase, without '#' or '@', as campaigns store them.
    pub hashtags: Vec<String>,
    pub mentions: Vec<String>,
    pub takeovers: Vec<(Key, Window)>,
}

impl Tracker {
    /// From the stored columns: the window, the JSON lists of hashtags and mentions, and the
    /// takeovers (account and window).
    pub(crate) fn from_columns(
        campaign_id: i64,
        window: (DateTime<Utc>, DateTime<Utc>),
        hashtags: &str,
        mentions: &str,
        takeovers: Vec<TakeoverRow>,
    ) -> Result<Self, StoreError> {
        let list = |raw: &str, column: &str| {
            serde_json::from_str::<Vec<String>>(raw)
                .map_err(|e| StoreError::Corrupt(format!("campaigns.{column}: {e}")))
        };
        let takeovers = takeovers
            .into_iter()
            .filter_map(|(_, platform, handle, start, end)| {
                let platform = platform.parse::<Platform>().ok()?;
                let handle = Handle::parse(&handle).ok()?;
                Some(((platform, handle), Window { start, end }))
            })
            .collect();
        Ok(Self {
            campaign_id,
            window: Window {
                start: window.0,
                end: window.1,
            },
            hashtags: list(hashtags, "hashtags")?,
            mentions: list(mentions, "mentions")?,
            takeovers,
        })
    }

    /// Whether, and why, a post of `account` is this campaign's (`None`: an account no
    /// takeover names), from its time and its hashtags and mentions as stored
    /// (space-separated, lowercase); the rules of `resonance_core::campaign::report`.
    pub(crate) fn matches(
        &self,
        account: Option<&Key>,
        posted_at: DateTime<Utc>,
        hashtags: &str,
        mentions: &str,
    ) -> Option<MatchedBy> {
        if self
            .takeovers
            .iter()
            .any(|(taken, window)| Some(taken) == account && window.contains(posted_at))
        {
            return Some(MatchedBy::Takeover);
        }
        if !self.window.contains(posted_at) {
            return None;
        }
        let any_of = |stored: &str, terms: &[String]| {
            stored
                .split(' ')
                .any(|tag| !tag.is_empty() && terms.iter().any(|term| term == tag))
        };
        if any_of(hashtags, &self.hashtags) {
            Some(MatchedBy::Hashtag)
        } else if any_of(mentions, &self.mentions) {
            Some(MatchedBy::Mention)
        } else {
            None
        }
    }
}

/// The active campaigns, as one batch of posts sees them.
#[derive(Debug, Default)]
pub(crate) struct ActiveCampaigns(pub Vec<Tracker>);

/// One post's attribution to one campaign, to store (`matched_by` set) or to remove (`None`:
/// an updated post no longer matches).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub campaign_id: i64,
    pub creator_id: i64,
    pub external_id: String,
    pub matched_by: Option<MatchedBy>,
}

impl ActiveCampaigns {
    /// The attributions of the posts a batch wrote: `changes` holds (input index, creator id,
    /// whether the post was new).
    pub(crate) fn attribute(&self, inputs: &[Input], changes: &[(usize, i64, bool)]) -> Vec<Found> {
        let mut found = Vec::new();
        for tracker in &self.0 {
            for &(index, creator_id, created) in changes {
                let input = &inputs[index];
                let content = &input.content;
                let matched_by = tracker.matches(
                    Some(&input.key),
                    content.posted_at,
                    &content.hashtags,
                    &content.mentions,
                );
                if matched_by.is_some() || !created {
                    found.push(Found {
                        campaign_id: tracker.campaign_id,
                        creator_id,
                        external_id: input.external_id.clone(),
                        matched_by,
                    });
                }
            }
        }
        found
    }
}

/// Builds trackers from campaign rows and takeover rows (campaign id first).
fn trackers(
    campaigns: Vec<CampaignRow>,
    takeovers: Vec<TakeoverRow>,
) -> Result<ActiveCampaigns, StoreError> {
    let mut by_campaign: HashMap<i64, Vec<TakeoverRow>> = HashMap::new();
    for takeover in takeovers {
        by_campaign.entry(takeover.0).or_default().push(takeover);
    }
    campaigns
        .into_iter()
        .map(|(id, start, end, hashtags, mentions)| {
            Tracker::from_columns(
                id,
                (start, end),
                &hashtags,
                &mentions,
                by_campaign.remove(&id).unwrap_or_default(),
            )
        })
        .collect::<Result<_, _>>()
        .map(ActiveCampaigns)
}

const ACTIVE_CAMPAIGNS: &str =
    "SELECT id, start_at, end_at, hashtags, mentions FROM campaigns WHERE status = 'active'";
const ACTIVE_TAKEOVERS: &str = "SELECT d.campaign_id, d.takeover_platform, d.takeover_handle, \
     d.window_start, d.window_end FROM deliverables d JOIN campaigns c ON c.id = d.campaign_id \
     WHERE c.status = 'active' AND d.kind = 'takeover' AND d.takeover_platform IS NOT NULL \
     AND d.takeover_handle IS NOT NULL AND d.window_start IS NOT NULL AND d.window_end IS NOT NULL";

/// SQLite, on the bulk writer's rusqlite transaction.
pub(crate) mod sqlite {
    use rusqlite::{Connection, params};

    use super::*;
    use crate::posts::{sqlite_error, sqlite_time};

    fn time(text: String) -> rusqlite::Result<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&text)
            .map(|at| at.with_timezone(&Utc))
            .map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    0,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })
    }

    pub(crate) fn active(txn: &Connection) -> Result<ActiveCampaigns, StoreError> {
        let error = sqlite_error;
        let mut statement = txn.prepare(ACTIVE_CAMPAIGNS).map_err(error)?;
        let campaigns = statement
            .query_map([], |row| {
                Ok((
                    row.get(0)?,
                    time(row.get(1)?)?,
                    time(row.get(2)?)?,
                    row.get(3)?,
                    row.get(4)?,
                ))
            })
            .map_err(error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(error)?;
        if campaigns.is_empty() {
            return Ok(ActiveCampaigns::default());
        }
        let mut statement = txn.prepare(ACTIVE_TAKEOVERS).map_err(error)?;
        let takeovers = statement
            .query_map([], |row| {
                Ok((
                    row.get(0)?,
                    row.get(1)?,
                    row.get(2)?,
                    time(row.get(3)?)?,
                    time(row.get(4)?)?,
                ))
            })
            .map_err(error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(error)?;
        trackers(campaigns, takeovers)
    }

    pub(crate) fn store(
        txn: &Connection,
        found: &[Found],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if found.is_empty() {
            return Ok(());
        }
        let error = sqlite_error;
        let now = sqlite_time(now);
        let mut insert = txn
            .prepare(
                "INSERT INTO campaign_posts (campaign_id, post_id, creator_id, posted_at, \
                 matched_by, attributed_at) \
                 SELECT ?1, id, creator_id, posted_at, ?4, ?5 FROM posts \
                 WHERE creator_id = ?2 AND external_id = ?3 \
                 ON CONFLICT (campaign_id, post_id) DO UPDATE SET \
                 posted_at = excluded.posted_at, matched_by = excluded.matched_by",
            )
            .map_err(error)?;
        let mut delete = txn
            .prepare(
                "DELETE FROM campaign_posts WHERE campaign_id = ?1 AND post_id IN \
                 (SELECT id FROM posts WHERE creator_id = ?2 AND external_id = ?3)",
            )
            .map_err(error)?;
        for f in found {
            match f.matched_by {
                Some(by) => insert.execute(params![
                    f.campaign_id,
                    f.creator_id,
                    f.external_id,
                    by.as_str(),
                    now
                ]),
                None => delete.execute(params![f.campaign_id, f.creator_id, f.external_id]),
            }
            .map_err(error)?;
        }
        Ok(())
    }
}

/// PostgreSQL, on the bulk writer's sqlx transaction.
pub(crate) mod postgres {
    use sea_orm::sqlx::{self, PgConnection};

    use super::*;
    use crate::posts::sqlx_error;

    pub(crate) async fn active(db: &mut PgConnection) -> Result<ActiveCampaigns, StoreError> {
        let campaigns: Vec<CampaignRow> = sqlx::query_as(ACTIVE_CAMPAIGNS)
            .fetch_all(&mut *db)
            .await
            .map_err(sqlx_error)?;
        if campaigns.is_empty() {
            return Ok(ActiveCampaigns::default());
        }
        let takeovers: Vec<TakeoverRow> = sqlx::query_as(ACTIVE_TAKEOVERS)
            .fetch_all(&mut *db)
            .await
            .map_err(sqlx_error)?;
        trackers(campaigns, takeovers)
    }

    pub(crate) async fn store(
        db: &mut PgConnection,
        found: &[Found],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (kept, removed): (Vec<&Found>, Vec<&Found>) =
            found.iter().partition(|f| f.matched_by.is_some());
        if !kept.is_empty() {
            sqlx::query(
                "INSERT INTO campaign_posts (campaign_id, post_id, creator_id, posted_at, \
                 matched_by, attributed_at) \
                 SELECT f.campaign_id, p.id, p.creator_id, p.posted_at, f.matched_by, $5 \
                 FROM UNNEST($1::int8[], $2::int8[], $3::text[], $4::text[]) \
                 AS f(campaign_id, creator_id, external_id, matched_by) \
                 JOIN posts p ON p.creator_id = f.creator_id AND p.external_id = f.external_id \
                 ON CONFLICT (campaign_id, post_id) DO UPDATE SET \
                 posted_at = excluded.posted_at, matched_by = excluded.matched_by",
            )
            .bind(kept.iter().map(|f| f.campaign_id).collect::<Vec<_>>())
            .bind(kept.iter().map(|f| f.creator_id).collect::<Vec<_>>())
            .bind(
                kept.iter()
                    .map(|f| f.external_id.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind(
                kept.iter()
                    .map(|f| f.matched_by.map_or("", MatchedBy::as_str))
                    .collect::<Vec<_>>(),
            )
            .bind(now)
            .execute(&mut *db)
            .await
            .map_err(sqlx_error)?;
        }
        if !removed.is_empty() {
            sqlx::query(
                "DELETE FROM campaign_posts cp USING posts p, \
                 UNNEST($1::int8[], $2::int8[], $3::text[]) AS f(campaign_id, creator_id, external_id) \
                 WHERE cp.campaign_id = f.campaign_id AND cp.post_id = p.id \
                 AND p.creator_id = f.creator_id AND p.external_id = f.external_id",
            )
            .bind(removed.iter().map(|f| f.campaign_id).collect::<Vec<_>>())
            .bind(removed.iter().map(|f| f.creator_id).collect::<Vec<_>>())
            .bind(removed.iter().map(|f| f.external_id.as_str()).collect::<Vec<_>>())
            .execute(&mut *db)
            .await
            .map_err(sqlx_error)?;
        }
        Ok(())
    }
}

/// Attributes the stored posts to one campaign afresh, from its current terms and takeovers:
/// all of them if it is active, none otherwise (a campaign that ended keeps what it had).
/// Returns how many posts are attributed.
pub(crate) async fn reattribute(
    db: &DatabaseConnection,
    campaign_id: i64,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    use sea_orm::ActiveValue::Set;
    use sea_orm::{ColumnTrait as _, EntityTrait as _, QueryFilter as _, QuerySelect as _};

    use crate::entity::{campaign, campaign_post, creator, deliverable, post};

    let txn = crate::begin(db).await?;
    let Some(row) = campaign::Entity::find_by_id(campaign_id).one(&txn).await? else {
        return Ok(0);
    };
    if row.status != "active" {
        crate::commit(txn).await?;
        return Ok(0);
    }
    let takeovers: Vec<TakeoverRow> = deliverable::Entity::find()
        .filter(deliverable::Column::CampaignId.eq(campaign_id))
        .filter(deliverable::Column::Kind.eq("takeover"))
        .all(&txn)
        .await?
        .into_iter()
        .filter_map(|d| {
            Some((
                d.campaign_id,
                d.takeover_platform?,
                d.takeover_handle?,
                d.window_start?,
                d.window_end?,
            ))
        })
        .collect();
    let tracker = trackers(
        vec![(row.id, row.start_at, row.end_at, row.hashtags, row.mentions)],
        takeovers,
    )?
    .0
    .pop()
    .ok_or_else(|| StoreError::Corrupt(format!("campaign {campaign_id} has no tracker")))?;

    // Candidates: posts inside the campaign window (hashtags and mentions), and posts of the
    // taken-over accounts inside their windows; only the columns matching reads.
    let columns = || {
        post::Entity::find().select_only().columns([
            post::Column::Id,
            post::Column::CreatorId,
            post::Column::PostedAt,
            post::Column::Hashtags,
            post::Column::Mentions,
        ])
    };
    let mut candidates: HashMap<i64, Candidate> = HashMap::new();
    if !tracker.hashtags.is_empty() || !tracker.mentions.is_empty() {
        let rows: Vec<Candidate> = columns()
            .filter(post::Column::PostedAt.gte(tracker.window.start))
            .filter(post::Column::PostedAt.lt(tracker.window.end))
            .into_tuple()
            .all(&txn)
            .await?;
        candidates.extend(rows.into_iter().map(|row| (row.0, row)));
    }
    let mut accounts: HashMap<i64, Key> = HashMap::new();
    for ((platform, handle), window) in &tracker.takeovers {
        let Some(account) = creator::Entity::find()
            .filter(creator::Column::Platform.eq(platform.as_str()))
            .filter(creator::Column::Handle.eq(handle.as_str()))
            .one(&txn)
            .await?
        else {
            continue;
        };
        accounts.insert(account.id, (*platform, handle.clone()));
        let rows: Vec<Candidate> = columns()
            .filter(post::Column::CreatorId.eq(account.id))
            .filter(post::Column::PostedAt.gte(window.start))
            .filter(post::Column::PostedAt.lt(window.end))
            .into_tuple()
            .all(&txn)
            .await?;
        candidates.extend(rows.into_iter().map(|row| (row.0, row)));
    }
    let mut matched = Vec::new();
    let mut ids: Vec<i64> = candidates.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        let (post_id, creator_id, posted_at, hashtags, mentions) = &candidates[&id];
        if let Some(by) = tracker.matches(accounts.get(creator_id), *posted_at, hashtags, mentions)
        {
            matched.push(campaign_post::ActiveModel {
                campaign_id: Set(campaign_id),
                post_id: Set(*post_id),
                creator_id: Set(*creator_id),
                posted_at: Set(*posted_at),
                matched_by: Set(by.as_str().to_owned()),
                attributed_at: Set(now),
            });
        }
    }
    let attributed = matched.len() as u64;
    campaign_post::Entity::delete_many()
        .filter(campaign_post::Column::CampaignId.eq(campaign_id))
        .exec(&txn)
        .await?;
    let mut matched = matched.into_iter().peekable();
    while matched.peek().is_some() {
        let chunk: Vec<_> = matched
            .by_ref()
            .take(crate::creators::ROWS_PER_STATEMENT)
            .collect();
        campaign_post::Entity::insert_many(chunk)
            .exec_without_returning(&txn)
            .await?;
    }
    crate::commit(txn).await?;
    Ok(attributed)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn day(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, 12, 0, 0)
            .single()
            .expect("time")
    }

    fn account(handle: &str) -> Key {
        (Platform::Instagram, Handle::parse(handle).expect("handle"))
    }

    fn tracker() -> Tracker {
        Tracker::from_columns(
            7,
            (day(1), day(20)),
            r#"["glow"]"#,
            r#"["acme"]"#,
            vec![(7, "instagram".into(), "acme".into(), day(25), day(26))],
        )
        .expect("tracker")
    }

    #[test]
    fn posts_match_by_takeover_then_hashtag_then_mention_inside_their_windows() {
        let t = tracker();
        let ana = account("ana");
        let acme = account("acme");
        assert_eq!(
            t.matches(Some(&ana), day(2), "food glow", ""),
            Some(MatchedBy::Hashtag)
        );
        assert_eq!(
            t.matches(Some(&ana), day(2), "food", "acme"),
            Some(MatchedBy::Mention)
        );
        assert_eq!(
            t.matches(Some(&ana), day(2), "glow", "acme"),
            Some(MatchedBy::Hashtag),
            "a hashtag is named first"
        );
        assert_eq!(
            t.matches(Some(&ana), day(2), "glowing", "acmeco"),
            None,
            "whole tags"
        );
        assert_eq!(t.matches(Some(&ana), day(2), "", ""), None);
        assert_eq!(
            t.matches(Some(&ana), day(20), "glow", ""),
            None,
            "the end is outside"
        );
        assert_eq!(
            t.matches(Some(&ana), day(1), "glow", ""),
            Some(MatchedBy::Hashtag),
            "the start is inside"
        );
        // The taken-over account inside the takeover window, with no tag, outside the
        // campaign window; not another account, not outside the takeover window.
        assert_eq!(
            t.matches(Some(&acme), day(25), "", ""),
            Some(MatchedBy::Takeover)
        );
        assert_eq!(t.matches(Some(&ana), day(25), "", ""), None);
        assert_eq!(t.matches(None, day(25), "", ""), None);
        assert_eq!(t.matches(Some(&acme), day(27), "glow", ""), None);
    }

    #[test]
    fn a_batch_removes_attributions_only_of_updated_posts() {
        let t = tracker();
        let post = |id: &str, caption_tags: &str| {
            let mut content = crate::posts::tests::content(day(2));
            content.hashtags = caption_tags.to_owned();
            Input {
                key: account("ana"),
                external_id: id.to_owned(),
                content,
                observed_at: day(3),
            }
        };
        let inputs = vec![
            post("new-tagged", "glow"),
            post("new-plain", ""),
            post("edited", ""),
        ];
        let found = ActiveCampaigns(vec![t])
            .attribute(&inputs, &[(0, 1, true), (1, 1, true), (2, 1, false)]);
        let summary: Vec<(&str, Option<MatchedBy>)> = found
            .iter()
            .map(|f| (f.external_id.as_str(), f.matched_by))
            .collect();
        assert_eq!(
            summary,
            [("new-tagged", Some(MatchedBy::Hashtag)), ("edited", None)]
        );
    }
}
