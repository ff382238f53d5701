//! Hashtags and mentions from free text.

/// Tags introduced by `marker` ('#' or '@') in `text`, lowercased, without the marker, in order
/// of first appearance and without repeats. A tag is a run of letters, digits, '_' or '.', not
/// ending in '.'.
pub fn extract_tags(text: &str, marker: char) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut previous: Option<char> = None;
    while let Some((_, c)) = chars.next() {
        let starts_tag = c == marker && !previous.is_some_and(|p| p.is_alphanumeric() || p == '_');
        previous = Some(c);
        if !starts_tag {
            continue;
        }
        let mut tag = String::new();
        while let Some(&(_, next)) = chars.peek() {
            if next.is_alphanumeric() || next == '_' || next == '.' {
                tag.extend(next.to_lowercase());
                chars.next();
                previous = Some(next);
            } else {
                break;
            }
        }
        let tag = tag.trim_end_matches('.').to_owned();
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

/// Normalizes a tag given on its own: trims, drops one leading marker, lowercases.
pub fn normalize_tag(raw: &str, marker: char) -> String {
    let trimmed = raw.trim();
    trimmed
        .strip_prefix(marker)
        .unwrap_or(trimmed)
        .to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_hashtags_and_mentions() {
        let caption = "Loving this! #Ad #vegan_food with @Chef.Anna. #ad email a@b.c";
        assert_eq!(extract_tags(caption, '#'), vec!["ad", "vegan_food"]);
        assert_eq!(extract_tags(caption, '@'), vec!["chef.anna"]);
    }

    #[test]
    fn normalizes() {
        assert_eq!(normalize_tag(" #Sponsored ", '#'), "sponsored");
        assert_eq!(normalize_tag("@Brand", '@'), "brand");
    }
}
