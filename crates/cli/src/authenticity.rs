//! Training the fake-follower classifier from labelled follower profiles, and choosing the
//! classifier a scoring service uses.

use std::path::{Path, PathBuf};

use anyhow::Context;
use resonance_core::FollowerProfile;
use resonance_core::authenticity::{
    Classifier, Evaluation, FakeFollowerModel, TrainOptions, cross_validate,
};
use serde::Deserialize;

/// The model shipped with the binary: trained on InstaFake by `resonance authenticity train
/// --data ../shared/data/instafake --out deploy/models/fake-followers-instafake.json`.
/// Its data is CC BY-NC 4.0 (Akyon & Kalfaoglu, 2019): non-commercial use only.
pub const BUILTIN_MODEL: &str =
    include_str!("../../../deploy/models/fake-followers-instafake.json");

/// The classifier named by `scoring.authenticity_model`: "builtin", "rules" or a model file.
pub fn classifier(setting: &str) -> anyhow::Result<Classifier> {
    let model: FakeFollowerModel = match setting {
        "rules" => return Ok(Classifier::Rules),
        "builtin" => serde_json::from_str(BUILTIN_MODEL).context("the built-in model")?,
        path => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("scoring.authenticity_model: cannot read {path}"))?;
            serde_json::from_str(&text)
                .with_context(|| format!("scoring.authenticity_model: {path} is not a model"))?
        }
    };
    model
        .validate()
        .map_err(|e| anyhow::anyhow!("scoring.authenticity_model: {e}"))?;
    Ok(Classifier::Model(model))
}

/// An account as the InstaFake data set writes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InstaFakeAccount {
    user_follower_count: u64,
    user_following_count: u64,
    #[serde(default)]
    user_biography_length: u32,
    user_media_count: u64,
    #[serde(default)]
    user_has_profil_pic: u8,
    #[serde(default)]
    user_is_private: u8,
    #[serde(default)]
    username_digit_count: u32,
    #[serde(default)]
    username_length: u32,
    is_fake: u8,
}

/// A labelled follower in the canonical field names (JSONL).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LabelledFollower {
    #[serde(default)]
    id: String,
    followers: u64,
    following: u64,
    #[serde(default)]
    media_count: u64,
    #[serde(default)]
    has_profile_picture: bool,
    #[serde(default)]
    is_private: bool,
    #[serde(default)]
    bio_length: u32,
    #[serde(default)]
    username_length: u32,
    #[serde(default)]
    username_digit_count: u32,
    #[serde(default)]
    full_name_word_count: u32,
    #[serde(default)]
    has_external_url: bool,
    fake: bool,
}

/// Reads labelled followers from files or folders: `.json` files holding an array in the
/// InstaFake format, `.jsonl` files with one canonical follower and a `fake` flag per line.
pub fn read_labelled(paths: &[PathBuf]) -> anyhow::Result<Vec<(FollowerProfile, bool)>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot list {}", path.display()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "json" || e == "jsonl"))
                .collect();
            entries.sort();
            files.extend(entries);
        } else {
            files.push(path.clone());
        }
    }
    let mut samples = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("cannot read {}", file.display()))?;
        if file.extension().is_some_and(|e| e == "jsonl") {
            for (index, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let f: LabelledFollower = serde_json::from_str(line)
                    .with_context(|| format!("{} line {}", file.display(), index + 1))?;
                samples.push((
                    FollowerProfile {
                        id: f.id,
                        followers: f.followers,
                        following: f.following,
                        media_count: f.media_count,
                        has_profile_picture: f.has_profile_picture,
                        is_private: f.is_private,
                        bio_length: f.bio_length,
                        username_length: f.username_length,
                        username_digit_count: f.username_digit_count,
                        full_name_word_count: f.full_name_word_count,
                        has_external_url: f.has_external_url,
                    },
                    f.fake,
                ));
            }
        } else {
            let accounts: Vec<InstaFakeAccount> =
                serde_json::from_str(&text).with_context(|| {
                    format!("{} is not an array of InstaFake accounts", file.display())
                })?;
            samples.extend(accounts.into_iter().map(instafake_follower));
        }
    }
    anyhow::ensure!(!samples.is_empty(), "no labelled followers found");
    Ok(samples)
}

fn instafake_follower(a: InstaFakeAccount) -> (FollowerProfile, bool) {
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
}

/// Cross-validates, then trains on everything and writes the model.
pub fn train(
    paths: &[PathBuf],
    out: &Path,
    folds: usize,
    source: &str,
) -> anyhow::Result<Evaluation> {
    let samples = read_labelled(paths)?;
    let options = TrainOptions::default();
    let evaluation = cross_validate(&samples, folds, 7, options).map_err(|e| anyhow::anyhow!(e))?;
    let model =
        FakeFollowerModel::train(&samples, options, source).map_err(|e| anyhow::anyhow!(e))?;
    let json = serde_json::to_string_pretty(&model)?;
    std::fs::write(out, json + "\n").with_context(|| format!("cannot write {}", out.display()))?;
    Ok(evaluation)
}
