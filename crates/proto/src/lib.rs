//! The Resonance contracts: code generated from the top-level proto/ tree, the descriptor set
//! for reflection, and conversions between the wire types and the domain types.
//!
//! Generated types stay at the edge: services convert requests into domain values with the
//! functions in [`convert`], whose errors name the offending field path, and turn those errors
//! into INVALID_ARGUMENT with [`status::invalid_argument`].

#![cfg_attr(
    test,
    allow(
        unused_crate_dependencies,
        reason = "dev-dependencies serve the integration tests"
    )
)]

pub use prost;
pub use prost_types;
pub use tonic;

#[allow(clippy::all, reason = "generated code is not ours to restyle")]
pub mod resonance {
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("resonance.common.v1");
        }
    }
    pub mod scoring {
        pub mod v1 {
            tonic::include_proto!("resonance.scoring.v1");
        }
    }
    pub mod roster {
        pub mod v1 {
            tonic::include_proto!("resonance.roster.v1");
        }
    }
    pub mod campaign {
        pub mod v1 {
            tonic::include_proto!("resonance.campaign.v1");
        }
    }
    pub mod ingest {
        pub mod v1 {
            tonic::include_proto!("resonance.ingest.v1");
        }
    }
}

pub use resonance::{
    campaign::v1 as campaign, common::v1 as common, ingest::v1 as ingest, roster::v1 as roster,
    scoring::v1 as scoring,
};

/// The encoded descriptor set of every Resonance contract, with its imports, for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("resonance_descriptor");

pub mod api_key;
pub mod convert;
pub mod paging;
pub mod retry;
pub mod status;
