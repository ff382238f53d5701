//! Streaming batch scoring over gRPC, accounts per second with 12 posts each, beside the cost
//! of only decoding the same messages.
//!
//! `cargo bench -p resonance-scoring --bench stream_scoring [-- ACCOUNTS]` (default 20,000).
//! Three figures on the same messages:
//! 1. decode only, in process: prost decoding of the encoded requests, no gRPC;
//! 2. a gRPC stream to a server whose handler only decodes and answers an empty score;
//! 3. the same stream to the real ScoringService.
//!
//! The target: 3 at least half of 2 (scoring is not the bottleneck of a stream).

#![allow(
    unused_crate_dependencies,
    reason = "a bench target links every dependency of the library"
)]

mod common;

use std::pin::Pin;
use std::time::Instant;

use futures::{Stream, StreamExt};
use prost::Message;
use resonance_proto::common::Platform;
use resonance_proto::prost_types::Timestamp;
use resonance_proto::scoring::scoring_service_client::ScoringServiceClient;
use resonance_proto::scoring::scoring_service_server::ScoringService;
use resonance_proto::scoring::{
    AccountData, ClassifyFollowersRequest, ClassifyFollowersResponse, CreatorScore,
    GetCreatorRequest, GetCreatorResponse, Post, Profile, ScoreAccountRequest,
    ScoreAccountResponse, SearchCreatorsRequest, SearchCreatorsResponse,
    StreamScoreAccountsRequest, StreamScoreAccountsResponse, stream_score_accounts_response,
};
use resonance_proto::tonic::{self, Request, Response, Status, Streaming};

const CAPTIONS: [&str; 4] = [
    "Weeknight pasta with a twist #recipe #foodie #dinner",
    "Sunrise over the old town #travel #wanderlust",
    "Leg day, no excuses #workout #gym #fitness",
    "New drop from our partners #ad #fashion #ootd",
];

fn request(i: u64, now: i64) -> StreamScoreAccountsRequest {
    let followers = 10_000 + (i * 7_919) % 490_000;
    StreamScoreAccountsRequest {
        account: Some(AccountData {
            profile: Some(Profile {
                platform: Platform::Instagram as i32,
                handle: format!("creator.{i}"),
                display_name: format!("Creator {i}"),
                bio: "Recipes, travel and everyday life".to_owned(),
                followers: followers as i64,
                following: (300 + i % 700) as i64,
                media_count: 500,
                country: "US".to_owned(),
                ..Default::default()
            }),
            posts: (0..12_i64)
                .map(|p| Post {
                    external_id: format!("p{p}"),
                    posted_time: Some(Timestamp {
                        seconds: now - 86_400 * (p + 1),
                        nanos: 0,
                    }),
                    likes: Some((followers / 40 + (p as u64) * 13) as i64),
                    comments: Some((followers / 900) as i64),
                    caption: CAPTIONS[((i + p as u64) % 4) as usize].to_owned(),
                    paid_partnership: p % 6 == 0,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }),
        engagement_definition: None,
    }
}

type ScoreStream = Pin<Box<dyn Stream<Item = Result<StreamScoreAccountsResponse, Status>> + Send>>;

/// Answers every streamed account with an empty score: only the decoding is left.
struct DecodeOnly;

#[tonic::async_trait]
impl ScoringService for DecodeOnly {
    async fn score_account(
        &self,
        _: Request<ScoreAccountRequest>,
    ) -> Result<Response<ScoreAccountResponse>, Status> {
        Err(Status::unimplemented("decode-only baseline"))
    }
    async fn stream_score_accounts(
        &self,
        request: Request<Streaming<StreamScoreAccountsRequest>>,
    ) -> Result<Response<ScoreStream>, Status> {
        let mut index = 0_i64;
        let stream = request.into_inner().map(move |item| {
            let item = item?;
            let response = StreamScoreAccountsResponse {
                index,
                result: Some(stream_score_accounts_response::Result::Score(
                    CreatorScore {
                        followers: item
                            .account
                            .and_then(|a| a.profile)
                            .map_or(0, |p| p.followers),
                        ..Default::default()
                    },
                )),
            };
            index += 1;
            Ok(response)
        });
        Ok(Response::new(Box::pin(stream)))
    }
    async fn classify_followers(
        &self,
        _: Request<ClassifyFollowersRequest>,
    ) -> Result<Response<ClassifyFollowersResponse>, Status> {
        Err(Status::unimplemented("decode-only baseline"))
    }
    async fn get_creator(
        &self,
        _: Request<GetCreatorRequest>,
    ) -> Result<Response<GetCreatorResponse>, Status> {
        Err(Status::unimplemented("decode-only baseline"))
    }
    async fn search_creators(
        &self,
        _: Request<SearchCreatorsRequest>,
    ) -> Result<Response<SearchCreatorsResponse>, Status> {
        Err(Status::unimplemented("decode-only baseline"))
    }
}

/// Streams every request and waits for every answer; returns accounts per second.
async fn stream_rate(addr: std::net::SocketAddr, requests: &[StreamScoreAccountsRequest]) -> f64 {
    let mut client = ScoringServiceClient::new(common::channel(addr).await)
        .max_decoding_message_size(common::MAX_MESSAGE_BYTES);
    let started = Instant::now();
    let outbound = futures::stream::iter(requests.to_vec());
    let mut responses = client
        .stream_score_accounts(outbound)
        .await
        .expect("stream opens")
        .into_inner();
    let mut scored = 0_usize;
    while let Some(response) = responses.next().await {
        let response = response.expect("no stream error");
        assert!(
            matches!(
                response.result,
                Some(stream_score_accounts_response::Result::Score(_))
            ),
            "every benchmark account is valid"
        );
        scored += 1;
    }
    assert_eq!(scored, requests.len());
    scored as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let accounts: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let now = chrono::Utc::now().timestamp();
    let requests: Vec<StreamScoreAccountsRequest> =
        (0..accounts).map(|i| request(i, now)).collect();
    let encoded: Vec<Vec<u8>> = requests.iter().map(Message::encode_to_vec).collect();
    let bytes: usize = encoded.iter().map(Vec::len).sum();

    let started = Instant::now();
    for message in &encoded {
        let decoded = StreamScoreAccountsRequest::decode(message.as_slice()).expect("decodes");
        std::hint::black_box(decoded);
    }
    let decode_rate = accounts as f64 / started.elapsed().as_secs_f64();

    let dir = tempfile::tempdir().expect("tempdir");
    let store = common::scratch_store(dir.path()).await;
    let scoring = common::serve(common::scoring_api(store, common::engine())).await;
    let baseline = common::serve(DecodeOnly).await;

    // Warm both paths (connections, allocator) before measuring.
    let warm = &requests[..requests.len().min(500)];
    stream_rate(baseline, warm).await;
    stream_rate(scoring, warm).await;
    let baseline_rate = stream_rate(baseline, &requests).await;
    let scoring_rate = stream_rate(scoring, &requests).await;

    println!(
        "streaming {accounts} accounts x 12 posts ({:.0} bytes each) on {} cores",
        bytes as f64 / accounts as f64,
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    println!("{:<44} {:>12}", "path", "accounts/s");
    println!(
        "{:<44} {:>12.0}",
        "decode only, in process (prost)", decode_rate
    );
    println!(
        "{:<44} {:>12.0}",
        "gRPC stream, decode-only server (baseline)", baseline_rate
    );
    println!(
        "{:<44} {:>12.0}",
        "gRPC stream, ScoringService", scoring_rate
    );
    println!(
        "scoring runs at {:.0}% of the decode-only stream (target: at least 50%)",
        100.0 * scoring_rate / baseline_rate
    );
}
