import Crypto
import Foundation
import GRPCCore
import Hummingbird
import HummingbirdCore
@testable import LLMLabAPI
import LLMLabCore
import LLMLabProto
import LLMLabSecurity
import LLMLabStore
import LLMLabTestSupport
import Logging
import NIOCore
import PostgresNIO
import SwiftProtobuf
import Synchronization
import Testing

/// A webhook receiver on a real loopback socket: records every POST, and answers 500 to
/// the first `failures` of them.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var headers: [String: String]
        var body: [UInt8]
    }

    private struct State {
        var received: [Received] = []
        var failuresLeft = 0
    }

    private let state = Mutex(State())

    init(failures: Int = 0) { state.withLock { $0.failuresLeft = failures } }

    var received: [Received] { state.withLock { $0.received } }

    func buildApplication(onPort: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let router = Router()
        router.post("hook") { request, _ -> Response in
            var request = request
            let body = Array(try await request.collectBody(upTo: 1 << 20).readableBytesView)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let fail = self.state.withLock { state in
                state.received.append(Received(headers: headers, body: body))
                let fail = state.failuresLeft > 0
                if fail { state.failuresLeft -= 1 }
                return fail
            }
            return Response(status: fail ? .internalServerError : .ok)
        }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                           onServerRunning: { channel in await onPort(channel.localAddress?.port ?? 0) }, logger: logger)
    }

    /// Runs `body` with the receiver listening; returns its `http://127.0.0.1:<port>/hook`.
    func serving<R: Sendable>(_ body: @Sendable (String) async throws -> R) async throws -> R {
        try await withThrowingTaskGroup(of: Void.self) { group in
            let (ports, port) = AsyncStream<Int>.makeStream()
            group.addTask { try await self.buildApplication(onPort: { port.yield($0) }).run() }
            defer { group.cancelAll() }
            guard let listening = await ports.first(where: { _ in true }) else { throw RPCError(code: .internalError, message: "receiver did not start") }
            return try await body("http://127.0.0.1:\(listening)/hook")
        }
    }
}

@Suite("Alerts")
struct AlertTests {
    static func deliverer(_ cp: TestControlPlane, backoff: Duration = .milliseconds(40), maxAttempts: Int = 5,
                          timeout: Duration = .seconds(5)) -> WebhookDeliverer {
        var configuration = WebhookDeliverer.Configuration()
        configuration.backoff = backoff
        configuration.maxAttempts = maxAttempts
        configuration.timeout = timeout
        return WebhookDeliverer(database: cp.database.database, keyVault: cp.plane.keyVault, configuration: configuration,
                                logger: TestControlPlane.logger)
    }

    /// Runs the deliverer until `id` leaves `pending` (or gives up after a while).
    static func drive(_ deliverer: WebhookDeliverer, _ cp: TestControlPlane, _ auth: Metadata, delivery id: String) async throws -> Llmlab_V1_AlertDelivery {
        for _ in 0..<100 {
            await deliverer.runOnce()
            let deliveries = try await cp.alerts.listDeliveries(.init(), metadata: auth).deliveries
            if let delivery = deliveries.first(where: { $0.id == id }), delivery.status != .pending { return delivery }
            try await Task.sleep(for: .milliseconds(30))
        }
        throw RPCError(code: .deadlineExceeded, message: "delivery \(id) stayed pending")
    }

    static func hexHMAC(_ secret: String, _ body: [UInt8]) -> String {
        HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
    }

    @Test("create, list, test: a signed test delivery reaches the webhook; delete; all audited")
    func signedTestDelivery() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("alerts-co")
            let receiver = WebhookReceiver()
            try await receiver.serving { url in
                let created = try await cp.alerts.createChannel(.with { $0.name = "ops"; $0.url = url }, metadata: t.ownerAuth)
                #expect(created.secret.hasPrefix("whsec_"))
                #expect(created.secret.count == 6 + 43)
                #expect(created.channel.secretLastFour == String(created.secret.suffix(4)))
                #expect(created.channel.kind == .webhook)
                #expect(created.channel.url == url)

                let listed = try await cp.alerts.listChannels(.init(), metadata: t.ownerAuth)
                #expect(listed.channels.map(\.id) == [created.channel.id])
                #expect(try !listed.jsonString().contains(created.secret))

                let duplicate = await rpcError { _ = try await cp.alerts.createChannel(.with { $0.name = "ops"; $0.url = url }, metadata: t.ownerAuth) }
                #expect(duplicate?.code == .alreadyExists)

                let test = try await cp.alerts.testChannel(.with { $0.id = created.channel.id }, metadata: t.ownerAuth)
                let delivery = try await Self.drive(Self.deliverer(cp), cp, t.ownerAuth, delivery: test.deliveryID)
                #expect(delivery.status == .delivered)
                #expect(delivery.attempts == 1)
                #expect(delivery.lastStatusCode == 200)
                #expect(delivery.eventKind == "test")
                #expect(delivery.hasDeliveredAt)

                let got = try #require(receiver.received.first)
                #expect(receiver.received.count == 1)
                #expect(got.headers["content-type"] == "application/json")
                #expect(got.headers["x-llmlab-event"] == "test")
                #expect(got.headers["x-llmlab-delivery"] == test.deliveryID)
                #expect(got.headers["x-llmlab-signature"] == "sha256=" + Self.hexHMAC(created.secret, got.body))
                #expect(got.headers["x-llmlab-signature"] != "sha256=" + Self.hexHMAC("whsec_wrong", got.body))
                let json = try #require(try JSONSerialization.jsonObject(with: Data(got.body)) as? [String: Any])
                #expect(json["event"] as? String == "test")
                #expect(json["delivery_id"] as? String == test.deliveryID)
                #expect(json["tenant_id"] as? String == t.id)

                // The secret is only ciphertext in the database and never in the audit log.
                let audit = try await cp.audit.listAuditEvents(.with { $0.pageSize = 500 }, metadata: t.ownerAuth)
                let auditJSON = try audit.jsonString()
                #expect(!auditJSON.contains(created.secret))
                #expect(auditJSON.contains("alert_channel:\(created.channel.id)"))
                #expect(auditJSON.contains("alert_delivery:\(test.deliveryID)"))
                #expect(auditJSON.contains("system:alerts"))

                _ = try await cp.alerts.deleteChannel(.with { $0.id = created.channel.id }, metadata: t.ownerAuth)
                #expect(try await cp.alerts.listChannels(.init(), metadata: t.ownerAuth).channels.isEmpty)
                #expect(await rpcCode { _ = try await cp.alerts.deleteChannel(.with { $0.id = created.channel.id }, metadata: t.ownerAuth) } == .notFound)
            }
        }
    }

    @Test("a Slack channel gets {\"text\": …} with one readable line, still signed")
    func slackChannel() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("slack-co")
            let receiver = WebhookReceiver()
            try await receiver.serving { url in
                let created = try await cp.alerts.createChannel(.with { $0.name = "team"; $0.kind = .slack; $0.url = url },
                                                                metadata: t.ownerAuth)
                #expect(created.channel.kind == .slack)
                let listed = try await cp.alerts.listChannels(.init(), metadata: t.ownerAuth)
                #expect(listed.channels.first?.kind == .slack)
                let test = try await cp.alerts.testChannel(.with { $0.id = created.channel.id }, metadata: t.ownerAuth)
                let delivery = try await Self.drive(Self.deliverer(cp), cp, t.ownerAuth, delivery: test.deliveryID)
                #expect(delivery.status == .delivered)
                let got = try #require(receiver.received.first)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(got.body)) as? [String: Any])
                #expect(json.keys.sorted() == ["text"])
                #expect((json["text"] as? String)?.hasPrefix("LLMLab test alert") == true)
                #expect(got.headers["x-llmlab-signature"] == "sha256=" + Self.hexHMAC(created.secret, got.body))
            }
        }
    }

    @Test("the Slack line for a budget threshold names the subject, the threshold and the amounts")
    func slackBudgetText() {
        let payload = #"{"event":"budget_threshold","data":{"subject_kind":"project","subject_id":"p-1","threshold_pct":"80","spent_usd":"80.00","limit_usd":"100.00"}}"#
        #expect(SlackMessage.text(forPayload: payload, event: "budget_threshold")
                == "LLMLab budget alert: project p-1 reached 80% of its monthly budget ($80.00 of $100.00)")
        #expect(String(decoding: SlackMessage.body(forPayload: "{}", event: "other"), as: UTF8.self) == #"{"text":"LLMLab alert (other)"}"#)
    }

    @Test("500, 500, then 200: delivered after three attempts with backoff; out of attempts: failed")
    func retries() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("alerts-retry")
            let receiver = WebhookReceiver(failures: 2)
            try await receiver.serving { url in
                let channel = try await cp.alerts.createChannel(.with { $0.name = "flaky"; $0.url = url }, metadata: t.ownerAuth)
                let test = try await cp.alerts.testChannel(.with { $0.id = channel.channel.id }, metadata: t.ownerAuth)
                let delivery = try await Self.drive(Self.deliverer(cp), cp, t.ownerAuth, delivery: test.deliveryID)
                #expect(delivery.status == .delivered)
                #expect(delivery.attempts == 3)
                #expect(delivery.lastStatusCode == 200)
                #expect(receiver.received.count == 3)
                #expect(Set(receiver.received.compactMap { $0.headers["x-llmlab-delivery"] }) == [test.deliveryID])
            }
            // Nothing listens here: every attempt fails, and the delivery gives up.
            let dead = try await cp.alerts.createChannel(.with { $0.name = "dead"; $0.url = "http://127.0.0.1:1/hook" }, metadata: t.ownerAuth)
            let test = try await cp.alerts.testChannel(.with { $0.id = dead.channel.id }, metadata: t.ownerAuth)
            let failed = try await Self.drive(Self.deliverer(cp, maxAttempts: 2, timeout: .milliseconds(500)), cp, t.ownerAuth, delivery: test.deliveryID)
            #expect(failed.status == .failed)
            #expect(failed.attempts == 2)
            #expect(!failed.lastError.isEmpty)
            let filtered = try await cp.alerts.listDeliveries(.with { $0.channelID = dead.channel.id }, metadata: t.ownerAuth)
            #expect(filtered.deliveries.map(\.id) == [test.deliveryID])
        }
    }

    @Test("the proxy's budget threshold events become one delivery per enabled channel, once")
    func budgetEvents() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("alerts-budget")
            let receiver = WebhookReceiver()
            try await receiver.serving { url in
                _ = try await cp.alerts.createChannel(.with { $0.name = "a"; $0.url = url }, metadata: t.ownerAuth)
                _ = try await cp.alerts.createChannel(.with { $0.name = "b"; $0.url = url }, metadata: t.ownerAuth)
                let projectID = UUID()
                let scope = TenantScope(tenantID: try #require(UUID(uuidString: t.id)))
                try await cp.database.database.withTenantTransaction(scope) { connection in
                    try await BudgetRepository(connection, logger: TestControlPlane.logger).recordThreshold(
                        subjectKind: "project", subjectID: projectID, projectID: projectID, period: Date(),
                        thresholdPct: 80, spentUSD: "80.5", limitUSD: "100")
                }
                // The evaluator turns the proxy's budget event into an alert; the deliverer sends it.
                #expect(await AlertFixtures.evaluator(cp).runOnce().enqueued == 2)
                let deliverer = Self.deliverer(cp)
                for _ in 0..<50 where receiver.received.count < 2 {
                    await deliverer.runOnce()
                    try await Task.sleep(for: .milliseconds(20))
                }
                await deliverer.runOnce()
                #expect(receiver.received.count == 2)
                let deliveries = try await cp.alerts.listDeliveries(.init(), metadata: t.ownerAuth).deliveries
                #expect(deliveries.count == 2)
                #expect(deliveries.allSatisfy { $0.eventKind == "budget_threshold" && $0.status == .delivered })
                let first = try #require(receiver.received.first)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any])
                let data = try #require(json["data"] as? [String: String])
                #expect(json["event"] as? String == "budget_threshold")
                #expect(data["threshold_pct"] == "80")
                #expect(data["project_id"] == projectID.uuidString.lowercased())
                #expect(receiver.received.allSatisfy { $0.headers["x-llmlab-event"] == "budget_threshold" })
            }
        }
    }

    @Test("another tenant's channel is not found; viewers read but cannot write; bad urls name the field")
    func isolationAndValidation() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("alerts-a")
            let b = try await cp.makeTenant("alerts-b")
            let bChannel = try await cp.alerts.createChannel(.with { $0.name = "b-ops"; $0.url = "https://hooks.example/b" }, metadata: b.ownerAuth)
            for call in [
                { _ = try await cp.alerts.deleteChannel(.with { $0.id = bChannel.channel.id }, metadata: a.ownerAuth) },
                { _ = try await cp.alerts.testChannel(.with { $0.id = bChannel.channel.id }, metadata: a.ownerAuth) },
                { _ = try await cp.alerts.listDeliveries(.with { $0.channelID = bChannel.channel.id }, metadata: a.ownerAuth) },
            ] as [@Sendable () async throws -> Void] {
                #expect(await rpcCode(call) == .notFound)
            }
            #expect(try await cp.alerts.listChannels(.init(), metadata: a.ownerAuth).channels.isEmpty)
            #expect(try await cp.alerts.listChannels(.init(), metadata: b.ownerAuth).channels.count == 1)

            let (_, viewer) = try await cp.signedInUser(a, role: .viewer)
            let asViewer = TestControlPlane.auth(viewer)
            #expect(await rpcCode { _ = try await cp.alerts.createChannel(.with { $0.name = "v"; $0.url = "https://x.example" }, metadata: asViewer) } == .permissionDenied)
            #expect(try await cp.alerts.listChannels(.init(), metadata: asViewer).channels.isEmpty)
            #expect(try await cp.alerts.listDeliveries(.init(), metadata: asViewer).deliveries.isEmpty)

            // Alerts are tenant-wide: a project-scoped admin key may not touch them.
            let project = try await cp.projects.createProject(.with { $0.name = "one" }, metadata: a.ownerAuth)
            let scopedKey = try await cp.auth.createApiKey(.with { $0.name = "p admin"; $0.role = .admin; $0.projectID = project.id }, metadata: a.ownerAuth)
            let scoped = TestControlPlane.auth(scopedKey.secret)
            #expect(await rpcCode { _ = try await cp.alerts.createChannel(.with { $0.name = "s"; $0.url = "https://x.example" }, metadata: scoped) } == .permissionDenied)
            #expect(await rpcCode { _ = try await cp.alerts.listDeliveries(.init(), metadata: scoped) } == .permissionDenied)

            for url in ["ftp://hooks.example/x", "file:///etc/passwd", "not a url", "", "https://user:pw@hooks.example/"] {
                let error = await rpcError { _ = try await cp.alerts.createChannel(.with { $0.name = "bad"; $0.url = url }, metadata: a.ownerAuth) }
                #expect(error?.code == .invalidArgument, "\(url)")
                #expect(error?.message.hasPrefix("url") == true, "\(url): \(error?.message ?? "")")
            }
        }
    }
}
