use std::fmt;

/// Input that does not describe a valid domain value. `field` is the path of the offending
/// field from the root of the value being parsed ("account.posts[3].likes"), so that callers can
/// be told exactly what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Places the error under a parent path: `posts[3]` + `likes` -> `posts[3].likes`.
    #[must_use]
    pub fn within(mut self, parent: &str) -> Self {
        self.field = if self.field.is_empty() {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// A configuration number that must be finite and not negative.
pub fn non_negative(value: f64, field: &str) -> Result<f64, ValidationError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(ValidationError::new(
            field,
            format!("must be a finite number >= 0 (got {value})"),
        ))
    }
}

/// Adds a field path to the errors of a fallible step.
pub trait WithinField<T> {
    fn within(self, parent: &str) -> Result<T, ValidationError>;
}

impl<T> WithinField<T> for Result<T, ValidationError> {
    fn within(self, parent: &str) -> Result<T, ValidationError> {
        self.map_err(|error| error.within(parent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_nest() {
        let error = ValidationError::new("likes", "must not be negative")
            .within("posts[3]")
            .within("account");
        assert_eq!(error.field, "account.posts[3].likes");
        assert_eq!(
            error.to_string(),
            "account.posts[3].likes: must not be negative"
        );
    }
}
