public import Foundation
import LLMLabCore
public import LLMLabStore
public import Logging
import Synchronization

/// Takes OTLP exports for a tenant's project — from `POST /v1/traces` or the gRPC
/// `TraceService/Export` — and hands the mapped spans to the span writer: decode, check,
/// map (GenAI / OpenInference / Pydantic AI conventions, priced with the catalog and the
/// tenant's overrides, content kept only if the project captures it), then wait until the
/// writer says they are durable. The reply reports rejected spans as `partial_success`.
public struct TraceIngest: Sendable {
    let database: Database
    let sink: any SpanSink
    let overrides: PriceOverrideCache
    let settings: ProjectSettingsCache
    let mapper = SpanMapper()
    let logger: Logger
    /// Spans stored and rejected since start (for `/metrics`).
    public let counters = IngestCounters()
    /// Largest OTLP body after decompression.
    public let maxBodyBytes: Int

    public init(database: Database, sink: any SpanSink, overrides: PriceOverrideCache, logger: Logger,
                maxBodyBytes: Int = OTLPDecoder.defaultMaxBodyBytes) {
        self.database = database
        self.sink = sink
        self.overrides = overrides
        self.settings = ProjectSettingsCache(database: database, logger: logger)
        self.logger = logger
        self.maxBodyBytes = maxBodyBytes
    }

    /// What an OTLP/HTTP export is answered with.
    public struct HTTPReply: Sendable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]
        public var retryAfterSeconds: Int?
    }

    /// Handles one OTLP/HTTP body: 200 with `ExportTraceServiceResponse` (in the request's
    /// encoding) when stored, 400/413/415 for a body that cannot be taken, 429 or 503 with
    /// `Retry-After` when the writer cannot take more now.
    public func exportHTTP(_ body: [UInt8], contentType: String, contentEncoding: String?, tenantID: UUID, projectID: UUID) async -> HTTPReply {
        let batch: OTLPBatch
        do {
            batch = try OTLPDecoder.decode(body, contentType: contentType, contentEncoding: contentEncoding, maxBodyBytes: maxBodyBytes)
        } catch {
            let format = OTLPFormat(contentType: contentType) ?? .json
            return HTTPReply(status: error.httpStatus, contentType: format.contentType,
                             body: OTLPStatusBody.encode(code: 3, message: error.description, as: format))
        }
        do {
            try await store(batch.spans, tenantID: tenantID, projectID: projectID)
        } catch let error as IngestError {
            let status = error.code == .overloaded ? 429 : (error.code == .invalid ? 400 : 503)
            return HTTPReply(status: status, contentType: batch.format.contentType,
                             body: OTLPStatusBody.encode(code: error.code == .invalid ? 3 : 14, message: error.message, as: batch.format),
                             retryAfterSeconds: error.code == .invalid ? nil : (error.retryAfterSeconds ?? 1))
        } catch {
            logger.error("trace export failed", metadata: ["error": "\(String(reflecting: error))"])
            return HTTPReply(status: 503, contentType: batch.format.contentType,
                             body: OTLPStatusBody.encode(code: 14, message: "the server could not store the spans; retry", as: batch.format),
                             retryAfterSeconds: 1)
        }
        counters.add(rejected: batch.rejectedSpans)
        return HTTPReply(status: 200, contentType: batch.format.contentType, body: OTLPResponse.encode(for: batch))
    }

    /// Maps and stores spans already decoded (the gRPC path); throws ``IngestError``.
    public func store(_ spans: [RawSpan], tenantID: UUID, projectID: UUID) async throws {
        guard !spans.isEmpty else { return }
        guard let project = try await settings.project(tenantID: tenantID, projectID: projectID) else {
            throw IngestError(.invalid, "the API key's project \(projectID.uuidString.lowercased()) no longer exists; create a key for an existing project")
        }
        let tenant = TenantIngest(tenantID: tenantID, projectID: projectID, captureContent: project.captureContent)
        let mapped = mapper.map(spans, tenant: tenant, overrides: await overrides.overrides(tenantID: tenantID))
        try await sink.accept(mapped, tenant: tenant)
        counters.add(stored: mapped.count)
    }
}

/// How many spans ingest stored and rejected (invalid ids) since the server started.
public final class IngestCounters: Sendable {
    private let storedCount = Atomic<Int>(0)
    private let rejectedCount = Atomic<Int>(0)

    public var stored: Int { storedCount.load(ordering: .relaxed) }
    public var rejected: Int { rejectedCount.load(ordering: .relaxed) }

    func add(stored count: Int) { storedCount.add(count, ordering: .relaxed) }
    public func add(rejected count: Int) { rejectedCount.add(count, ordering: .relaxed) }
}

/// A project's record per (tenant, project) for ingest (is there such a project, does it
/// capture content), cached like the proxy's configuration (``ConfigurationCache``).
struct ProjectSettingsCache: Sendable {
    let database: Database
    let logger: Logger
    let ttl: Duration
    let cache: ConfigurationCache<String, ProjectRecord?>

    init(database: Database, logger: Logger, ttl: Duration = .seconds(10)) {
        self.database = database
        self.logger = logger
        self.ttl = ttl
        self.cache = ConfigurationCache(changes: database.changes)
    }

    func project(tenantID: UUID, projectID: UUID) async throws -> ProjectRecord? {
        let database = self.database
        let logger = self.logger
        let ttl = self.ttl
        return try await cache.value(for: "\(tenantID)/\(projectID)") {
            let project = try await database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
                try await ProjectRepository(connection, logger: logger).find(id: projectID)
            }
            return (project, ttl)
        }
    }
}

/// A `google.rpc.Status` body for failed OTLP/HTTP exports, as the specification asks:
/// encoded like the request (protobuf field 1 `code`, field 2 `message`; or JSON).
enum OTLPStatusBody {
    static func encode(code: Int32, message: String, as format: OTLPFormat) -> [UInt8] {
        switch format {
        case .json:
            return Array(#"{"code":\#(code),"message":\#(JSONString.quoted(message))}"#.utf8)
        case .protobuf:
            var out: [UInt8] = [0x08]
            out += varint(UInt64(code))
            let text = Array(message.utf8)
            out.append(0x12)
            out += varint(UInt64(text.count))
            out += text
            return out
        }
    }

    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7f)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }
}
