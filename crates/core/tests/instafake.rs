#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! The fake-follower classifier on the InstaFake data set (Akyon & Kalfaoglu, 2019; CC BY-NC
//! 4.0): 10-fold stratified cross-validation must reach the paper's 96% accuracy.
//!
//! Reads RESONANCE_TEST_DATA (CI sets it) or `../shared/data` beside the repository; says
//! SKIPPED when neither is there.

use std::path::PathBuf;

use resonance_core::FollowerProfile;
use resonance_core::authenticity::{TrainOptions, cross_validate};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Account {
    user_follower_count: u64,
    user_following_count: u64,
    user_biography_length: u32,
    user_media_count: u64,
    user_has_profil_pic: u8,
    user_is_private: u8,
    username_digit_count: u32,
    username_length: u32,
    is_fake: u8,
}

fn data_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("RESONANCE_TEST_DATA") {
        return Some(PathBuf::from(dir));
    }
    let beside = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if beside.is_dir() {
        return Some(beside);
    }
    eprintln!("SKIPPED: no shared data; set RESONANCE_TEST_DATA");
    None
}

#[test]
fn cross_validated_accuracy_reaches_the_papers_96_percent() {
    let Some(data) = data_dir() else {
        return;
    };
    let mut samples = Vec::new();
    for file in ["fakeAccountData.json", "realAccountData.json"] {
        let text = std::fs::read_to_string(data.join("instafake").join(file)).expect("read");
        let accounts: Vec<Account> = serde_json::from_str(&text).expect("parse");
        samples.extend(accounts.into_iter().map(|a| {
            (
                FollowerProfile {
                    id: String::new(),
                    followers: a.user_follower_count,
                    following: a.user_following_count,
                    media_count: a.user_media_count,
                    has_profile_picture: a.user_has_profil_pic == 1,
                    is_private: a.user_is_private == 1,
                    bio_length: a.user_biography_length,
                    username_length: a.username_length,
                    username_digit_count: a.username_digit_count,
                    full_name_word_count: 0,
                    has_external_url: false,
                },
                a.is_fake == 1,
            )
        }));
    }
    assert_eq!(samples.len(), 1_194);
    let evaluation = cross_validate(&samples, 10, 7, TrainOptions::default()).expect("cv");
    eprintln!("InstaFake 10-fold: {evaluation:?}");
    assert!(evaluation.accuracy >= 0.96, "{evaluation:?}");
    assert!(evaluation.balanced_accuracy >= 0.90, "{evaluation:?}");
}
