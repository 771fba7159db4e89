import Foundation
import LLMLabGateway
import LLMLabStore
import LLMLabTracing
import Logging
import ServiceLifecycle

/// `POST /v1/traces` on the gateway, served by the tracing module's ``TraceIngest``.
struct TraceReceiverAdapter: TraceExportReceiver {
    let ingest: TraceIngest

    func export(_ body: [UInt8], contentType: String, contentEncoding: String?, tenantID: UUID, projectID: UUID) async -> TraceExportReply {
        let reply = await ingest.exportHTTP(body, contentType: contentType, contentEncoding: contentEncoding,
                                            tenantID: tenantID, projectID: projectID)
        return TraceExportReply(status: reply.status, contentType: reply.contentType, body: reply.body,
                                retryAfterSeconds: reply.retryAfterSeconds)
    }
}

/// Turns every proxied call into an LLM span (``ProxySpans``) and hands it to the span
/// writer off the request path: `proxied(_:)` only appends to a bounded buffer (the oldest
/// spans are dropped, and counted, if the writer falls far behind); `run()` drains it in
/// batches per tenant and project.
final class ProxySpanForwarder: ProxyCallObserver, Service {
    private let stream: AsyncStream<UsageEventRecord>
    private let continuation: AsyncStream<UsageEventRecord>.Continuation
    let sink: any SpanSink
    let logger: Logger

    init(sink: any SpanSink, logger: Logger, capacity: Int = 10_000) {
        (stream, continuation) = AsyncStream.makeStream(of: UsageEventRecord.self, bufferingPolicy: .bufferingNewest(capacity))
        self.sink = sink
        self.logger = logger
    }

    func proxied(_ event: UsageEventRecord) {
        if case .dropped = continuation.yield(event) {
            logger.warning("proxy span dropped: the span writer is behind")
        }
    }

    func run() async throws {
        // Ends when the group shuts down: the stream finishes and what is buffered is written.
        await withGracefulShutdownHandler {
            var batch: [UsageEventRecord] = []
            for await event in stream {
                batch.append(event)
                if batch.count >= 200 {
                    await write(batch)
                    batch.removeAll(keepingCapacity: true)
                }
                // Write what arrived when the buffer is idle.
                else if batch.count > 0 {
                    await write(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { await write(batch) }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    private func write(_ events: [UsageEventRecord]) async {
        let groups = Dictionary(grouping: events) { "\($0.tenantID)/\($0.projectID)" }
        for events in groups.values {
            guard let first = events.first else { continue }
            let tenant = TenantIngest(tenantID: first.tenantID, projectID: first.projectID, captureContent: false)
            do {
                try await sink.accept(events.map(ProxySpans.span(from:)), tenant: tenant)
            } catch {
                logger.warning("proxy spans not recorded", metadata: ["count": "\(events.count)", "error": "\(error)"])
            }
        }
    }
}
