import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTracing

/// `opentelemetry.proto.collector.trace.v1.TraceService/Export` on the gRPC listener, for
/// OpenTelemetry's OTLP/gRPC exporters. The caller is an LLMLab API key with the `ingest`
/// scope, sent as the exporter's `authorization: Bearer llk_…` header; the key's tenant and
/// project receive the spans. Spans with invalid ids are reported in `partial_success`;
/// when the writer is full the answer is UNAVAILABLE, which exporters retry with backoff.
struct OTLPTraceAPI: Opentelemetry_Proto_Collector_Trace_V1_TraceService.SimpleServiceProtocol {
    let ingest: TraceIngest

    func export(request: Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest,
                context: ServerContext) async throws -> Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        guard let projectID = principal.projectID else {
            throw APIError(.failedPrecondition,
                           "spans belong to a project: export with a project-scoped API key (llmlab-admin apikey create <name> --role member --project <id> --scopes ingest)")
        }
        let batch = OTLPDecoder.batch(from: request)
        do {
            try await ingest.store(batch.spans, tenantID: tenant.id, projectID: projectID)
        } catch let error as IngestError {
            switch error.code {
            case .invalid: throw APIError(.failedPrecondition, error.message)
            case .overloaded, .unavailable: throw APIError(.unavailable, error.message)
            }
        }
        ingest.counters.add(rejected: batch.rejectedSpans)
        return OTLPResponse.message(for: batch)
    }
}
