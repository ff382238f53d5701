#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! The fake-follower classifier on the InstaFake data set (Akyon & Kalfaoglu, 2019; CC BY-NC
//! 4.0), read the way `resonance authenticity train` reads it: 10-fold stratified
//! cross-validation must reach the paper's 96% accuracy.
//!
//! Reads RESONANCE_TEST_DATA (CI sets it) or `../shared/data` beside the repository; says
//! SKIPPED when neither is there.

use std::path::PathBuf;

use resonance_cli::authenticity::read_labelled;
use resonance_core::authenticity::{TrainOptions, cross_validate};

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
    let instafake = data.join("instafake");
    let samples = read_labelled(&[
        instafake.join("fakeAccountData.json"),
        instafake.join("realAccountData.json"),
    ])
    .expect("InstaFake reads");
    assert_eq!(samples.len(), 1_194);
    assert_eq!(samples.iter().filter(|(_, fake)| *fake).count(), 200);
    let evaluation = cross_validate(&samples, 10, 7, TrainOptions::default()).expect("cv");
    eprintln!("InstaFake 10-fold: {evaluation:?}");
    assert!(evaluation.accuracy >= 0.96, "{evaluation:?}");
    assert!(evaluation.balanced_accuracy >= 0.90, "{evaluation:?}");
}
