import Foundation
import LLMLabGateway
import LLMLabStore
import LLMLabTracing
import Logging
import ServiceLifecycle
import Synchronization

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
/// writer off the request path: `proxied(_:)` only appends to a bounded in-memory buffer
/// (when the writer falls far behind, new spans are dropped and counted); `run()` takes the
/// whole buffer every ``interval`` and hands it over in one call per tenant and project, so
/// the writer's wait for durability is paid per batch, not per request.
final class ProxySpanForwarder: ProxyCallObserver, Service {
    private struct Buffer {
        var events: [UsageEventRecord] = []
        var dropped = 0
    }

    private let buffer = Mutex(Buffer())
    let sink: any SpanSink
    let logger: Logger
    let capacity: Int
    let interval: Duration

    init(sink: any SpanSink, logger: Logger, capacity: Int = 50_000, interval: Duration = .milliseconds(50)) {
        self.sink = sink
        self.logger = logger
        self.capacity = capacity
        self.interval = interval
    }

    func proxied(_ event: UsageEventRecord) {
        let capacity = self.capacity
        buffer.withLock { buffer in
            if buffer.events.count < capacity {
                buffer.events.append(event)
            } else {
                buffer.dropped += 1
            }
        }
    }

    func run() async throws {
        // Until shutdown, then once more for what is left.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: self.interval)
                await self.drain()
            }
        }
        await drain()
    }

    private func drain() async {
        let (events, dropped) = buffer.withLock { buffer in
            defer { buffer = Buffer() }
            return (buffer.events, buffer.dropped)
        }
        if dropped > 0 {
            logger.warning("proxy spans dropped: the span writer is behind", metadata: ["count": "\(dropped)"])
        }
        guard !events.isEmpty else { return }
        let groups = Dictionary(grouping: events) { "\($0.tenantID)/\($0.projectID)" }
        await withTaskGroup(of: Void.self) { group in
            for events in groups.values {
                guard let first = events.first else { continue }
                let sink = self.sink
                let logger = self.logger
                group.addTask {
                    let tenant = TenantIngest(tenantID: first.tenantID, projectID: first.projectID, captureContent: false)
                    do {
                        try await sink.accept(events.map(ProxySpans.span(from:)), tenant: tenant)
                    } catch {
                        logger.warning("proxy spans not recorded", metadata: ["count": "\(events.count)", "error": "\(error)"])
                    }
                }
            }
        }
    }
}
