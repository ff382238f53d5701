//! Criterion benchmarks of the core scoring functions: `cargo bench -p resonance-core`.

#![allow(
    unused_crate_dependencies,
    reason = "a bench target links every dependency of the library"
)]

use std::hint::black_box;

use chrono::{TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use resonance_core::authenticity::Classifier;
use resonance_core::engagement::summarize;
use resonance_core::niche::{NicheClassifier, NicheConfig};
use resonance_core::peers::{PeerConfig, PeerGroup, rank};
use resonance_core::{
    AccountData, ContentFormat, EngagementDefinition, FollowerProfile, Handle, PeerIndex, Platform,
    Post, Profile, ScoreContext, ScoringConfig, ScoringModel,
};

fn account(followers: u64, sample: usize) -> AccountData {
    let observed_at = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    AccountData {
        profile: Profile {
            platform: Platform::Instagram,
            handle: Handle::parse("bench.creator").expect("valid handle"),
            external_id: None,
            display_name: "Bench".to_owned(),
            bio: "Chef, recipe developer and food photographer".to_owned(),
            followers,
            following: 400,
            media_count: 800,
            verified: false,
            is_private: false,
            has_profile_picture: true,
            country: Some("US".to_owned()),
            language: Some("en".to_owned()),
            categories: vec!["Food & Cooking".to_owned()],
            observed_at,
        },
        snapshots: vec![],
        posts: (0..12)
            .map(|i| {
                Post {
                    external_id: format!("p{i}"),
                    posted_at: observed_at - TimeDelta::days(i * 3),
                    format: ContentFormat::Post,
                    likes: Some(followers / 40 + i as u64 * 10),
                    comments: Some(followers / 1_000),
                    shares: None,
                    saves: None,
                    views: None,
                    caption: "Weeknight pasta with a twist #recipe #foodie #dinner #ad".to_owned(),
                    hashtags: vec![],
                    mentions: vec![],
                    paid_partnership: i % 5 == 0,
                    url: None,
                }
                .with_tags_from_caption()
            })
            .collect(),
        follower_sample: (0..sample)
            .map(|i| FollowerProfile {
                id: format!("f{i}"),
                followers: (i as u64 * 37) % 2_000,
                following: (i as u64 * 53) % 3_000,
                media_count: (i as u64 * 7) % 300,
                has_profile_picture: i % 3 != 0,
                is_private: i % 2 == 0,
                bio_length: (i % 80) as u32,
                username_length: 10,
                username_digit_count: (i % 4) as u32,
                full_name_word_count: 2,
                has_external_url: false,
            })
            .collect(),
    }
}

fn peers(model: &ScoringModel) -> PeerIndex {
    let config = model.peer_config();
    PeerIndex::new(
        model.population_definition_id(),
        (0..100_000_u32).map(|i| {
            let followers = 10_000 + u64::from(i) * 4;
            (
                PeerGroup {
                    platform: Platform::Instagram,
                    band: config.band(followers),
                    niche: ["food", "travel", "fitness", "general"][(i % 4) as usize].to_owned(),
                },
                f64::from(i % 997) / 20_000.0,
            )
        }),
    )
}

fn benches(c: &mut Criterion) {
    let model = ScoringModel::new(&ScoringConfig::default()).expect("default config");
    let classifier = Classifier::Model(
        serde_json::from_str(include_str!(
            "../../../deploy/models/fake-followers-instafake.json"
        ))
        .expect("builtin model parses"),
    );
    let index = peers(&model);
    let context = ScoreContext {
        classifier: &classifier,
        peers: &index,
        rate_card: None,
    };
    let now = Utc
        .with_ymd_and_hms(2026, 11, 2, 0, 0, 0)
        .single()
        .expect("valid date");
    let plain = account(40_000, 0);
    let sampled = account(40_000, 200);

    c.bench_function("score: 12 posts, no follower sample", |b| {
        b.iter(|| model.score(black_box(&plain), None, &context, now))
    });
    c.bench_function("score: 12 posts, 200 sampled followers", |b| {
        b.iter(|| model.score(black_box(&sampled), None, &context, now))
    });
    let definition = EngagementDefinition::default();
    c.bench_function("engagement summary: 12 posts", |b| {
        b.iter(|| {
            summarize(&definition, 40_000, black_box(&plain.posts), |p| {
                p.paid_partnership
            })
        })
    });
    let niches = NicheClassifier::new(&NicheConfig::default()).expect("default taxonomy");
    c.bench_function("niches: bio + 12 posts", |b| {
        b.iter(|| niches.classify(black_box(&plain.profile), black_box(&plain.posts)))
    });
    c.bench_function("classify one follower (model)", |b| {
        b.iter(|| classifier.classify(black_box(&sampled.follower_sample[7])))
    });
    let group = PeerGroup {
        platform: Platform::Instagram,
        band: PeerConfig::default().band(40_000),
        niche: "food".to_owned(),
    };
    let prior = PeerConfig::default().micro;
    c.bench_function("peer rank in a 25k-member index", |b| {
        b.iter(|| rank(black_box(0.021), index.peers(&group), prior, 30))
    });
}

criterion_group!(core, benches);
criterion_main!(core);
