#![allow(
    unused_crate_dependencies,
    reason = "integration tests link every dependency of the package"
)]

//! Trace export: with `telemetry.otlp_endpoint` set, a call's span reaches an OTLP collector
//! (a fake one here, on an ephemeral port) under the caller's trace, from its `traceparent`.
//! Its own test binary: telemetry sets the process's global subscriber.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use resonance_cli::config::TelemetrySettings;
use resonance_proto::common::Platform;
use resonance_proto::scoring::scoring_service_client::ScoringServiceClient;
use resonance_proto::scoring::{AccountData, Profile, ScoreAccountRequest};
use resonance_proto::tonic::{self, Request, Response, Status};
use resonance_store::testing::Backend;
use resonance_tests::TestApp;

/// One exported span: trace id, span name, and the service name it came from.
type Exported = (Vec<u8>, String, String);

/// Keeps every span it is sent.
#[derive(Debug, Clone, Default)]
struct Collector {
    spans: Arc<Mutex<Vec<Exported>>>,
}

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let mut spans = self.spans.lock().expect("not poisoned");
        for resource in request.into_inner().resource_spans {
            let service = resource
                .resource
                .iter()
                .flat_map(|r| r.attributes.iter())
                .find(|a| a.key == "service.name")
                .and_then(|a| a.value.as_ref())
                .map(|v| format!("{:?}", v.value))
                .unwrap_or_default();
            for scope in resource.scope_spans {
                for span in scope.spans {
                    spans.push((span.trace_id, span.name, service.clone()));
                }
            }
        }
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_calls_span_is_exported_under_the_callers_trace() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("collector port");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let telemetry = resonance_cli::telemetry::init(&TelemetrySettings {
        otlp_endpoint: Some(format!("http://{addr}")),
        service_name: "resonance-test".to_owned(),
        filter: "info".to_owned(),
        ..TelemetrySettings::default()
    });

    let app = TestApp::spawn(Backend::Sqlite).await.expect("app starts");
    let mut scoring = ScoringServiceClient::new(app.channel(app.scoring).await.expect("connect"));
    let mut request = Request::new(ScoreAccountRequest {
        account: Some(AccountData {
            profile: Some(Profile {
                platform: Platform::Instagram as i32,
                handle: "traced".to_owned(),
                followers: 20_000,
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    });
    request.metadata_mut().insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .expect("ascii"),
    );
    let answered = scoring.score_account(request).await.expect("scores");
    // The id logged and returned is the exported trace's.
    assert_eq!(
        answered
            .metadata()
            .get("x-trace-id")
            .map(|v| v.to_str().ok()),
        Some(Some("4bf92f3577b34da6a3ce929d0e0e4736"))
    );
    app.stop().await.expect("stops");
    tokio::task::spawn_blocking(move || telemetry.shutdown())
        .await
        .expect("flushed");

    let wanted = [
        0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47,
        0x36,
    ];
    let mut found = None;
    for _ in 0..50 {
        found = collector
            .spans
            .lock()
            .expect("not poisoned")
            .iter()
            .find(|(trace, name, _)| trace.as_slice() == wanted && name == "call")
            .cloned();
        if found.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, _, service) = found.expect("the call's span was exported under the caller's trace");
    assert!(service.contains("resonance-test"), "{service}");
}
