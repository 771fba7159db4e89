import AsyncHTTPClient
import Foundation
@testable import LLMLabGateway
import LLMLabCore
import LLMLabSecurity
import LLMLabStore
import LLMLabTestSupport
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// `POST /v1/traces` on the gateway: only keys with the `ingest` scope reach the receiver,
/// which gets the body and headers and whose reply goes back as is; oversized bodies are
/// refused before they are read whole.
@Suite("OTLP/HTTP endpoint")
struct TracesEndpointTests {
    final class RecordingReceiver: TraceExportReceiver {
        struct Call: Sendable {
            var body: [UInt8]
            var contentType: String
            var contentEncoding: String?
            var tenantID: UUID
            var projectID: UUID
        }

        let calls = Mutex<[Call]>([])
        let reply: TraceExportReply

        init(reply: TraceExportReply = TraceExportReply(status: 200, contentType: "application/x-protobuf", body: [])) {
            self.reply = reply
        }

        func export(_ body: [UInt8], contentType: String, contentEncoding: String?, tenantID: UUID, projectID: UUID) async -> TraceExportReply {
            calls.withLock { $0.append(Call(body: body, contentType: contentType, contentEncoding: contentEncoding, tenantID: tenantID, projectID: projectID)) }
            return reply
        }
    }

    static func ingestKey(_ harness: GatewayHarness) async throws -> String {
        let token = SecretToken.issue(.apiKey)
        let tenantID = harness.tenantID
        let projectID = harness.projectID
        try await harness.database.database.withControlTransaction { connection in
            _ = try await ApiKeyRepository(connection, logger: GatewayHarness.logger).insert(ApiKeyRecord(
                id: UUID(), tenantID: tenantID, name: "otel", prefix: token.displayPrefix, role: .member, projectID: projectID,
                scopes: [ApiKeyScope.ingest], createdBy: "test", expiresAt: nil), secretHash: token.sha256Hex)
        }
        return token.secret
    }

    func post(_ harness: GatewayHarness, key: String?, body: [UInt8], headers: [(String, String)] = []) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: harness.baseURL + "/v1/traces")
        request.method = .POST
        if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
        request.headers.add(name: "content-type", value: "application/x-protobuf")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await harness.client.execute(request, timeout: .seconds(10))
    }

    @Test("an ingest key reaches the receiver with the body, headers, tenant and project; the reply goes back as is")
    func forwards() async throws {
        let receiver = RecordingReceiver(reply: TraceExportReply(status: 429, contentType: "application/json", body: Array("{}".utf8),
                                                                 retryAfterSeconds: 2))
        try await GatewayHarness.with(traceReceiver: receiver) { harness in
            let key = try await Self.ingestKey(harness)
            let response = try await post(harness, key: key, body: [1, 2, 3], headers: [("content-encoding", "gzip")])
            #expect(response.status.code == 429)
            #expect(response.headers.first(name: "retry-after") == "2")
            #expect(response.headers.first(name: "content-type") == "application/json")
            let call = try #require(receiver.calls.withLock { $0.first })
            #expect(call.body == [1, 2, 3])
            #expect(call.contentEncoding == "gzip")
            #expect(call.contentType == "application/x-protobuf")
            #expect(call.tenantID == harness.tenantID && call.projectID == harness.projectID)
        }
    }

    @Test("a proxy-only key is 403, no key 401, and neither reaches the receiver; the ingest key cannot use the proxy")
    func scopes() async throws {
        let receiver = RecordingReceiver()
        try await GatewayHarness.with(traceReceiver: receiver) { harness in
            let proxyOnly = try await post(harness, key: harness.proxyKey, body: [1])
            #expect(proxyOnly.status.code == 403)
            let body = String(buffer: try await proxyOnly.body.collect(upTo: 1 << 16))
            #expect(body.contains("ingest scope"))
            #expect(try await post(harness, key: nil, body: [1]).status.code == 401)
            #expect(receiver.calls.withLock { $0.isEmpty })
            let key = try await Self.ingestKey(harness)
            #expect(try await harness.chat(GatewayHarness.chatBody(), key: key).status == 403)
        }
    }

    @Test("a body over the limit is 413 naming the flag")
    func tooLarge() async throws {
        let receiver = RecordingReceiver()
        try await GatewayHarness.with(configure: { $0.maxTraceBodyBytes = 1024 }, traceReceiver: receiver) { harness in
            let key = try await Self.ingestKey(harness)
            let response = try await post(harness, key: key, body: [UInt8](repeating: 7, count: 4096))
            #expect(response.status.code == 413)
            #expect(String(buffer: try await response.body.collect(upTo: 1 << 16)).contains("--max-trace-bytes"))
            #expect(receiver.calls.withLock { $0.isEmpty })
        }
    }
}
