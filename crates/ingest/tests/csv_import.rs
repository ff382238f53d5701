#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! CSV exports through a column mapping: the four real HypeAuditor monthly exports in
//! ../shared/data, whose headers differ and contain line breaks, and a small file with the
//! usual mess (quoted line breaks, human-formatted numbers, a Windows-1252 cell, a bad row).

use std::path::{Path, PathBuf};

use resonance_core::{Handle, Platform, ReportedAverages};
use resonance_ingest::{CsvMapping, FileFormat, import_file};
use resonance_store::Store;
use resonance_store::testing::{TestDatabase, backends};

/// The shared data folder: RESONANCE_TEST_DATA (CI sets it), else `../shared/data` beside the
/// repository. `None` (the test says SKIPPED) only when neither is there and the variable is
/// unset.
fn data_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("RESONANCE_TEST_DATA") {
        let dir = PathBuf::from(dir);
        assert!(
            dir.is_dir(),
            "RESONANCE_TEST_DATA={} does not exist",
            dir.display()
        );
        return Some(dir);
    }
    let beside = manifest("../../../shared/data");
    if beside.is_dir() {
        return Some(beside);
    }
    eprintln!(
        "SKIPPED: no shared data at {}; set RESONANCE_TEST_DATA",
        beside.display()
    );
    None
}

/// (month, export file) in the order the months happened.
const EXPORTS: [(&str, &str); 4] = [
    (
        "06",
        "social media influencers-instagram june 2022 - june 2022.csv",
    ),
    ("09", "social media influencers - instagram sep-2022.csv"),
    ("11", "social media influencers-instagram - -nov 2022.csv"),
    ("12", "social media influencers-INSTAGRAM - -DEC 2022.csv"),
];

fn manifest(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn mapping(month: &str) -> CsvMapping {
    let path = manifest(&format!(
        "../../deploy/mappings/hypeauditor-instagram-2022-{month}.toml"
    ));
    let text = std::fs::read_to_string(&path).expect("mapping file");
    CsvMapping::from_toml(&text).expect("mapping parses")
}

/// Imports the exports in `order`; returns the rows each accounted for.
async fn import_exports(store: &Store, data: &Path, order: &[usize]) -> Vec<u64> {
    let mut accepted = Vec::new();
    for &index in order {
        let (month, file) = EXPORTS[index];
        let path = data.join("hypeauditor-influencers-2022").join(file);
        let summary = import_file(store, &path, FileFormat::Csv(mapping(month)), |_| {})
            .await
            .expect("import runs");
        // The June export has rows shifted by a missing country: "0" or an engagement figure
        // where the country belongs. Those are refused, naming the field; nothing else is.
        let expected_rejections = if month == "06" { 16 } else { 0 };
        assert_eq!(
            summary.counts.rejected, expected_rejections,
            "{file}: {:?}",
            summary.rejections
        );
        assert!(
            summary.rejections.iter().all(|r| r.field == "country"),
            "{:?}",
            summary.rejections
        );
        accepted.push(summary.counts.total());
    }
    accepted
}

#[tokio::test]
async fn the_four_hypeauditor_exports_import_with_their_mappings_in_any_order() {
    let Some(data) = data_dir() else {
        return;
    };
    for backend in backends() {
        let mut states: Vec<(u64, Vec<u64>, Vec<ReportedAverages>)> = Vec::new();
        for order in [[0, 1, 2, 3], [3, 1, 0, 2]] {
            let (database, store) = TestDatabase::store(backend).await.expect("database");
            let accepted = import_exports(&store, &data, &order).await;
            // Every data row of every export is accounted for, stored or rejected.
            let mut by_month = vec![0; 4];
            for (index, count) in order.iter().zip(accepted) {
                by_month[*index] = count;
            }
            assert_eq!(by_month, vec![1022, 1050, 1000, 1000]);

            let creators = store.creators();
            let messi = creators
                .find(
                    Platform::Instagram,
                    &Handle::parse("leomessi").expect("handle"),
                )
                .await
                .expect("read")
                .expect("leomessi imported");
            let profile = messi.profile.expect("profile");
            // December's observation is the newest, whatever the import order.
            assert_eq!(profile.followers, 409_800_000);
            assert_eq!(profile.display_name, "Leo Messi");
            assert_eq!(profile.country.as_deref(), Some("AR"));
            assert_eq!(profile.categories, ["Sports with a ball", "Family"]);
            let history = creators.snapshots(messi.id).await.expect("history");
            let followers: Vec<u64> = history.iter().map(|s| s.followers).collect();
            assert_eq!(
                followers,
                [341_700_000, 358_600_000, 357_800_000, 409_800_000],
                "one snapshot per month, oldest first"
            );
            let december = history.last().expect("december").reported;
            assert_eq!(december.authentic_engagements, Some(17_800_000));
            assert_eq!(december.engagements, Some(23_400_000));

            states.push((
                creators.count().await.expect("count"),
                followers,
                history.iter().map(|s| s.reported).collect::<Vec<_>>(),
            ));
            store.close().await.expect("close");
            database.drop_database().await.expect("drop");
        }
        assert_eq!(
            states[0], states[1],
            "import order does not change the result"
        );
    }
}

const MESSY: &[u8] = b"Handle,\"Display\nName\",Followers,ER,Country\r\n\
anna.cooks,\"Anna\nCooks\",3.3k,1.5%,Spain\n\
bad.row,Bad,lots,1%,Spain\n\
cafe.owner,Caf\xe9,\"12,500\",NaN,France\n\
big.star,Star,475.8M,0.4%,N/A\n";

#[tokio::test]
async fn messy_rows_are_read_and_a_bad_row_is_reported_by_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("export.csv");
    std::fs::write(&path, MESSY).expect("write");
    let mut mapping = CsvMapping::new(resonance_ingest::RowKind::Profile);
    for assignment in [
        "handle=Handle",
        "display_name=Display Name",
        "followers=Followers",
        "engagement_rate=ER",
        "country=Country",
        "platform:=instagram",
        "observed_time:=2026-11-01",
    ] {
        mapping.set(assignment).expect("assignment");
    }
    for backend in backends() {
        let (database, store) = TestDatabase::store(backend).await.expect("database");
        let summary = import_file(&store, &path, FileFormat::Csv(mapping.clone()), |_| {})
            .await
            .expect("import runs");
        assert_eq!(
            (summary.counts.created, summary.counts.rejected),
            (3, 1),
            "{summary:?}"
        );
        let rejection = &summary.rejections[0];
        // The header spans lines 1-2 and Anna's row lines 3-4: the bad row starts on line 5.
        assert_eq!(rejection.position, "line 5");
        assert_eq!(rejection.field, "followers");
        assert!(rejection.message.contains("\"lots\""), "{rejection:?}");

        let find = |handle: &'static str| {
            let store = store.clone();
            async move {
                store
                    .creators()
                    .find(Platform::Instagram, &Handle::parse(handle).expect("handle"))
                    .await
                    .expect("read")
                    .expect("stored")
            }
        };
        let anna = find("anna.cooks").await;
        let profile = anna.profile.expect("profile");
        assert_eq!(profile.followers, 3_300);
        assert_eq!(profile.display_name, "Anna\nCooks");
        let reported = store.creators().snapshots(anna.id).await.expect("history")[0].reported;
        assert_eq!(reported.engagements, Some(50), "1.5% of 3,300 followers");
        let cafe = find("cafe.owner").await.profile.expect("profile");
        assert_eq!(
            (cafe.display_name.as_str(), cafe.followers),
            ("Café", 12_500)
        );
        let star = find("big.star").await.profile.expect("profile");
        assert_eq!((star.followers, star.country), (475_800_000, None));

        let letters = store
            .ingest()
            .list_dead_letters(None, Some(&summary.job.id), None, 10)
            .await
            .expect("dead letters");
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].position, "line 5");
        store.close().await.expect("close");
        database.drop_database().await.expect("drop");
    }
}
