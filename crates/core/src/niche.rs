//! Niches from what a creator writes: hashtags, captions, bio and the source's categories,
//! matched against a configurable taxonomy of keywords.
//!
//! Evidence is counted per source, so one post stuffed with twenty food hashtags weighs no more
//! than a post with one:
//!
//! | source                      | weight per niche                   |
//! |-----------------------------|------------------------------------|
//! | a category from the source  | `category_weight` (default 3)      |
//! | the bio                     | `bio_weight` (default 2)           |
//! | a post's hashtags           | `hashtag_weight` (default 1) each post |
//! | a post's caption words (not its hashtags) | `caption_weight` (default 0.5) each post |
//!
//! A niche's confidence is its share of all evidence times a saturation term that grows with
//! the evidence itself: `share x (1 - exp(-evidence / saturation))`. One stray hashtag therefore
//! gives a low confidence even when nothing else matched.
//!
//! Keywords of four or more characters match inside hashtags ("veganrecipes" holds "vegan" and
//! "recipe") and at the start of words ("recipes" holds "recipe"); shorter keywords must match a
//! whole hashtag or word, so "art" does not match "smart".

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use serde::{Deserialize, Serialize};

use crate::account::{Post, Profile};
use crate::error::{ValidationError, non_negative};

/// One niche of the taxonomy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NicheDefinition {
    /// Stable identifier, lowercase snake case ("health_wellness").
    pub id: String,
    /// Human-readable name ("Health & wellness").
    pub name: String,
    /// Lowercase keywords and hashtags (without '#').
    pub keywords: Vec<String>,
}

/// The taxonomy and how evidence is weighed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NicheConfig {
    pub niches: Vec<NicheDefinition>,
    pub category_weight: f64,
    pub bio_weight: f64,
    pub hashtag_weight: f64,
    pub caption_weight: f64,
    pub saturation: f64,
    /// Niches below this confidence are not reported.
    pub min_confidence: f64,
    /// At most this many niches per creator, most confident first.
    pub max_niches: usize,
}

fn niche(id: &str, name: &str, keywords: &[&str]) -> NicheDefinition {
    NicheDefinition {
        id: id.to_owned(),
        name: name.to_owned(),
        keywords: keywords.iter().map(|k| (*k).to_owned()).collect(),
    }
}

impl Default for NicheConfig {
    /// The product brief's niches (health and wellness, food, entrepreneurship, fashion and
    /// beauty) and the other common verticals of influencer marketplaces, covering the
    /// categories of HypeAuditor's exports.
    fn default() -> Self {
        Self {
            niches: vec![
                niche(
                    "health_wellness",
                    "Health & wellness",
                    &[
                        "wellness",
                        "wellbeing",
                        "health",
                        "healthy",
                        "mindful",
                        "meditation",
                        "selfcare",
                        "mentalhealth",
                        "nutrition",
                        "holistic",
                        "yoga",
                        "sleep",
                    ],
                ),
                niche(
                    "fitness",
                    "Fitness",
                    &[
                        "fitness",
                        "fitfam",
                        "workout",
                        "gym",
                        "training",
                        "bodybuilding",
                        "crossfit",
                        "running",
                        "pilates",
                        "personaltrainer",
                        "fit",
                        "trainer",
                        "coach",
                    ],
                ),
                niche(
                    "food",
                    "Food & drink",
                    &[
                        "food",
                        "foodie",
                        "recipe",
                        "cooking",
                        "chef",
                        "baking",
                        "vegan",
                        "dinner",
                        "brunch",
                        "restaurant",
                        "kitchen",
                        "coffee",
                        "wine",
                        "cuisine",
                    ],
                ),
                niche(
                    "entrepreneurship",
                    "Entrepreneurship & business",
                    &[
                        "entrepreneur",
                        "startup",
                        "business",
                        "founder",
                        "smallbusiness",
                        "marketing",
                        "hustle",
                        "ceo",
                        "leadership",
                        "productivity",
                    ],
                ),
                niche(
                    "fashion_beauty",
                    "Fashion & beauty",
                    &[
                        "fashion",
                        "style",
                        "ootd",
                        "outfit",
                        "beauty",
                        "makeup",
                        "skincare",
                        "hair",
                        "nails",
                        "cosmetic",
                        "lipstick",
                        "streetwear",
                        "model",
                    ],
                ),
                niche(
                    "travel",
                    "Travel",
                    &[
                        "travel",
                        "wanderlust",
                        "vacation",
                        "holiday",
                        "adventure",
                        "explore",
                        "hotel",
                        "backpacking",
                        "roadtrip",
                        "beach",
                    ],
                ),
                niche(
                    "technology",
                    "Technology",
                    &[
                        "tech",
                        "gadget",
                        "smartphone",
                        "coding",
                        "programming",
                        "software",
                        "ai",
                        "apple",
                        "android",
                        "science",
                    ],
                ),
                niche(
                    "gaming",
                    "Gaming",
                    &[
                        "gaming",
                        "gamer",
                        "esports",
                        "twitch",
                        "playstation",
                        "xbox",
                        "nintendo",
                        "fortnite",
                        "minecraft",
                        "videogame",
                        "games",
                    ],
                ),
                niche(
                    "parenting",
                    "Parenting & family",
                    &[
                        "mom",
                        "mum",
                        "dad",
                        "parenting",
                        "family",
                        "baby",
                        "kids",
                        "motherhood",
                        "fatherhood",
                        "toddler",
                    ],
                ),
                niche(
                    "finance",
                    "Personal finance",
                    &[
                        "finance",
                        "investing",
                        "money",
                        "stocks",
                        "crypto",
                        "bitcoin",
                        "budget",
                        "wealth",
                        "trading",
                        "realestate",
                    ],
                ),
                niche(
                    "music",
                    "Music",
                    &[
                        "music", "musician", "singer", "song", "rapper", "hiphop", "dj", "guitar",
                        "producer", "concert", "band",
                    ],
                ),
                niche(
                    "sports",
                    "Sports",
                    &[
                        "sport",
                        "football",
                        "soccer",
                        "basketball",
                        "tennis",
                        "athlete",
                        "nba",
                        "nfl",
                        "cricket",
                        "golf",
                        "cycling",
                    ],
                ),
                niche(
                    "pets",
                    "Pets & animals",
                    &[
                        "dog",
                        "puppy",
                        "cat",
                        "kitten",
                        "pets",
                        "petsofinstagram",
                        "animal",
                        "dogsofinstagram",
                        "catsofinstagram",
                    ],
                ),
                niche(
                    "home_decor",
                    "Home & interior",
                    &[
                        "interior",
                        "homedecor",
                        "decor",
                        "diy",
                        "garden",
                        "architecture",
                        "furniture",
                        "renovation",
                        "design",
                    ],
                ),
                niche(
                    "entertainment",
                    "Entertainment & humor",
                    &[
                        "comedy",
                        "funny",
                        "humor",
                        "meme",
                        "actor",
                        "actress",
                        "movie",
                        "film",
                        "cinema",
                        "entertainment",
                        "celebrity",
                        "shows",
                        "tv",
                    ],
                ),
                niche(
                    "education",
                    "Education",
                    &[
                        "education",
                        "learning",
                        "teacher",
                        "study",
                        "student",
                        "tutorial",
                        "language",
                        "history",
                        "books",
                        "booktok",
                        "bookstagram",
                        "literature",
                        "journalism",
                        "news",
                    ],
                ),
                niche(
                    "lifestyle",
                    "Lifestyle",
                    &["lifestyle", "dailylife", "vlog", "everyday", "luxury"],
                ),
                niche(
                    "automotive",
                    "Cars & motorbikes",
                    &[
                        "cars",
                        "carsofinstagram",
                        "motorbike",
                        "motorcycle",
                        "automotive",
                        "motorsport",
                        "supercar",
                        "formula1",
                    ],
                ),
                niche(
                    "photography",
                    "Photography & nature",
                    &[
                        "photography",
                        "photographer",
                        "landscape",
                        "nature",
                        "wildlife",
                        "portrait",
                        "photooftheday",
                    ],
                ),
            ],
            category_weight: 3.0,
            bio_weight: 2.0,
            hashtag_weight: 1.0,
            caption_weight: 0.5,
            saturation: 3.0,
            min_confidence: 0.1,
            max_niches: 3,
        }
    }
}

/// A niche a creator matched, with its confidence (0-1).
#[derive(Debug, Clone, PartialEq)]
pub struct NicheMatch {
    pub id: String,
    pub name: String,
    pub confidence: f64,
    /// The weighed evidence behind the confidence.
    pub evidence: f64,
}

/// The longest niche id (what storage keeps).
pub const MAX_NICHE_ID: usize = 64;
/// The most niches kept per creator (what storage keeps).
pub const MAX_NICHES_PER_CREATOR: usize = 10;

/// Keywords shorter than this match only whole hashtags and words.
const MIN_PARTIAL_KEYWORD: usize = 4;

/// The compiled taxonomy.
#[derive(Debug, Clone)]
pub struct NicheClassifier {
    config: NicheConfig,
    matcher: AhoCorasick,
    /// For each pattern of `matcher`, the niche it belongs to and whether it may match partially.
    patterns: Vec<(usize, bool)>,
}

impl NicheClassifier {
    pub fn new(config: &NicheConfig) -> Result<Self, ValidationError> {
        non_negative(config.category_weight, "niches.category_weight")?;
        non_negative(config.bio_weight, "niches.bio_weight")?;
        non_negative(config.hashtag_weight, "niches.hashtag_weight")?;
        non_negative(config.caption_weight, "niches.caption_weight")?;
        if !(config.saturation.is_finite() && config.saturation > 0.0) {
            return Err(ValidationError::new(
                "niches.saturation",
                "must be greater than 0",
            ));
        }
        if !(0.0..=1.0).contains(&config.min_confidence) {
            return Err(ValidationError::new(
                "niches.min_confidence",
                "must be between 0 and 1",
            ));
        }
        if config.max_niches == 0 || config.max_niches > MAX_NICHES_PER_CREATOR {
            return Err(ValidationError::new(
                "niches.max_niches",
                format!("must be between 1 and {MAX_NICHES_PER_CREATOR}"),
            ));
        }
        let mut keywords = Vec::new();
        let mut patterns = Vec::new();
        let mut ids = std::collections::BTreeSet::new();
        for (index, niche) in config.niches.iter().enumerate() {
            let field = format!("niches.niches[{index}]");
            let valid_id = !niche.id.is_empty()
                && niche.id.len() <= MAX_NICHE_ID
                && niche
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !valid_id {
                return Err(ValidationError::new(
                    format!("{field}.id"),
                    format!(
                        "{:?} must be lowercase snake case of at most {MAX_NICHE_ID} characters",
                        niche.id
                    ),
                ));
            }
            if !ids.insert(niche.id.as_str()) {
                return Err(ValidationError::new(
                    format!("{field}.id"),
                    format!("{:?} appears twice", niche.id),
                ));
            }
            for keyword in &niche.keywords {
                let keyword = keyword.trim().trim_start_matches('#').to_lowercase();
                if keyword.is_empty() {
                    return Err(ValidationError::new(
                        format!("{field}.keywords"),
                        "must not hold an empty keyword",
                    ));
                }
                patterns.push((index, keyword.chars().count() >= MIN_PARTIAL_KEYWORD));
                keywords.push(keyword);
            }
        }
        let matcher = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            // Matching ignores ASCII case, so free text is searched as written (no lowercase
            // copy per caption).
            .ascii_case_insensitive(true)
            .build(&keywords)
            .map_err(|e| ValidationError::new("niches", format!("cannot compile keywords: {e}")))?;
        Ok(Self {
            config: config.clone(),
            matcher,
            patterns,
        })
    }

    /// The niches whose keywords occur in `text` (any ASCII case), as a set of niche indices.
    /// `inside_words` lets long keywords match anywhere (for hashtags, which join words).
    fn matches(&self, text: &str, inside_words: bool, found: &mut [bool]) {
        let bytes = text.as_bytes();
        for hit in self.matcher.find_overlapping_iter(text) {
            let (niche, partial) = self.patterns[hit.pattern().as_usize()];
            if found[niche] {
                continue;
            }
            let before = hit.start().checked_sub(1).map(|i| bytes[i]);
            // In free text, a hashtag is already counted as a hashtag.
            if !inside_words && before == Some(b'#') {
                continue;
            }
            let starts_word = before.is_none_or(|b| !b.is_ascii_alphanumeric());
            let ends_word = hit.end() == bytes.len() || !bytes[hit.end()].is_ascii_alphanumeric();
            let accepted = if !partial {
                starts_word && ends_word
            } else {
                inside_words || starts_word
            };
            if accepted {
                found[niche] = true;
            }
        }
    }

    fn add(&self, text: &str, inside_words: bool, weight: f64, evidence: &mut [f64]) {
        // On the stack for any usual taxonomy: this runs for every caption scored.
        let mut stack = [false; 64];
        let mut heap;
        let found: &mut [bool] = if evidence.len() <= stack.len() {
            &mut stack[..evidence.len()]
        } else {
            heap = vec![false; evidence.len()];
            &mut heap
        };
        self.matches(text, inside_words, found);
        for (niche, hit) in found.iter().enumerate() {
            if *hit {
                evidence[niche] += weight;
            }
        }
    }

    /// The niches of a creator, most confident first.
    pub fn classify(&self, profile: &Profile, posts: &[Post]) -> Vec<NicheMatch> {
        let config = &self.config;
        let mut evidence = vec![0.0; config.niches.len()];
        if evidence.is_empty() {
            return Vec::new();
        }
        for category in &profile.categories {
            self.add(category, false, config.category_weight, &mut evidence);
        }
        self.add(&profile.bio, false, config.bio_weight, &mut evidence);
        let mut tags = String::new();
        for post in posts {
            tags.clear();
            for tag in &post.hashtags {
                tags.push_str(tag);
                tags.push(' ');
            }
            self.add(&tags, true, config.hashtag_weight, &mut evidence);
            self.add(&post.caption, false, config.caption_weight, &mut evidence);
        }
        let total: f64 = evidence.iter().sum();
        if total <= 0.0 {
            return Vec::new();
        }
        let mut matched: Vec<NicheMatch> = evidence
            .iter()
            .enumerate()
            .filter(|(_, e)| **e > 0.0)
            .map(|(index, e)| {
                let definition = &config.niches[index];
                NicheMatch {
                    id: definition.id.clone(),
                    name: definition.name.clone(),
                    confidence: (e / total) * (1.0 - (-e / config.saturation).exp()),
                    evidence: *e,
                }
            })
            .filter(|m| m.confidence >= config.min_confidence)
            .collect();
        matched.sort_by(|a, b| {
            b.confidence
                .total_cmp(&a.confidence)
                .then_with(|| a.id.cmp(&b.id))
        });
        matched.truncate(config.max_niches);
        matched
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.config.niches.iter().map(|n| n.id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::march;

    fn profile(bio: &str, categories: &[&str]) -> Profile {
        Profile {
            bio: bio.to_owned(),
            categories: categories.iter().map(|c| (*c).to_owned()).collect(),
            ..crate::fixtures::profile("someone", 20_000, 300)
        }
    }

    fn post(caption: &str) -> Post {
        crate::fixtures::post(caption, march(1), caption)
    }

    fn classifier() -> NicheClassifier {
        NicheClassifier::new(&NicheConfig::default()).expect("default taxonomy is valid")
    }

    #[test]
    fn a_food_creator_is_food_first() {
        let posts = vec![
            post("Sunday brunch done right #veganrecipes #foodie"),
            post("Tried a new pasta recipe tonight #homecooking"),
            post("Morning run before work #running"),
        ];
        let niches = classifier().classify(&profile("Chef and recipe developer", &[]), &posts);
        assert_eq!(niches[0].id, "food", "{niches:?}");
        assert!(niches[0].confidence > 0.5, "{niches:?}");
    }

    #[test]
    fn short_keywords_match_only_whole_words() {
        // "art" is not a keyword, but "ai" and "dj" are short ones: "said" and "djembe" do not
        // hold them as words.
        let niches = classifier().classify(&profile("she said hello to the djembe", &[]), &[]);
        assert!(niches.is_empty(), "{niches:?}");
        let niches = classifier().classify(&profile("AI researcher", &[]), &[]);
        assert_eq!(niches[0].id, "technology");
    }

    #[test]
    fn categories_from_a_source_count_most() {
        let niches = classifier().classify(&profile("", &["Fitness & Gym"]), &[]);
        assert_eq!(niches[0].id, "fitness");
    }

    #[test]
    fn one_stray_hashtag_is_weak_evidence() {
        let niches = classifier().classify(&profile("", &[]), &[post("#travel")]);
        assert_eq!(niches.len(), 1);
        assert!(niches[0].confidence < 0.3, "{niches:?}");
    }

    #[test]
    fn a_bad_taxonomy_names_the_key() {
        let mut config = NicheConfig::default();
        config.niches[1].id = "Fitness".to_owned();
        let error = NicheClassifier::new(&config).expect_err("uppercase id");
        assert_eq!(error.field, "niches.niches[1].id");
        let mut config = NicheConfig::default();
        config.niches[2].id = config.niches[0].id.clone();
        assert!(NicheClassifier::new(&config).is_err());
    }
}
#[cfg(test)]
mod hypeauditor_categories {
    use super::*;

    #[test]
    fn export_categories_have_niches() {
        let classifier = NicheClassifier::new(&NicheConfig::default()).expect("valid");
        for (category, niche) in [
            ("Lifestyle", "lifestyle"),
            ("Cars & Motorbikes", "automotive"),
            ("Shows", "entertainment"),
            ("Trainers & Coaches", "fitness"),
        ] {
            let profile = Profile {
                categories: vec![category.to_owned()],
                ..crate::fixtures::profile("someone", 20_000, 300)
            };
            let found = classifier.classify(&profile, &[]);
            assert_eq!(
                found.first().map(|n| n.id.as_str()),
                Some(niche),
                "{category}: {found:?}"
            );
        }
    }
}
