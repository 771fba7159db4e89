import Crypto
import Foundation
import GRPCCore
@testable import LLMLabAPI
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import SwiftProtobuf
import Testing

/// The rule, channel-state and history RPCs: validation, RBAC, tenant isolation, audit.
@Suite("Alert rules API")
struct AlertRuleAPITests {
    typealias F = AlertFixtures

    @Test("set, replace, list and delete rules for a project and a key; every change audited")
    func ruleLifecycle() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("rules-co")
            let (project, key) = try await F.project(cp, t, name: "p", budget: "100")
            let first = try await cp.alerts.setAlertRule(.with {
                $0.projectID = project.uuidString
                $0.thresholds = [90, 25, 90]
                $0.forecast = true
            }, metadata: t.ownerAuth).rule
            #expect(first.subjectKind == .project)
            #expect(first.subjectID == project.uuidString.lowercased())
            #expect(first.thresholds == [25, 90])
            #expect(first.forecast)
            #expect(first.spikeFactor.isEmpty)

            // One rule per subject: setting again replaces it and keeps the id.
            let replaced = try await cp.alerts.setAlertRule(.with {
                $0.projectID = project.uuidString
                $0.spikeFactor = "2.5"
                $0.spikeMinUsd = "5.00"
            }, metadata: t.ownerAuth).rule
            #expect(replaced.id == first.id)
            #expect(replaced.thresholds == [50, 80, 100])
            #expect(!replaced.forecast)
            #expect(replaced.spikeFactor == "2.5")
            #expect(replaced.spikeMinUsd == "5")

            let keyRule = try await cp.alerts.setAlertRule(.with {
                $0.apiKeyID = key.uuidString
                $0.noThresholds = true
                $0.spikeFactor = "3"
                $0.spikeMinUsd = "1"
            }, metadata: t.ownerAuth).rule
            #expect(keyRule.subjectKind == .apiKey)
            #expect(keyRule.thresholds.isEmpty)

            let listed = try await cp.alerts.listAlertRules(.init(), metadata: t.ownerAuth).rules
            #expect(Set(listed.map(\.id)) == [first.id, keyRule.id])

            _ = try await cp.alerts.deleteAlertRule(.with { $0.id = keyRule.id }, metadata: t.ownerAuth)
            #expect(try await cp.alerts.listAlertRules(.init(), metadata: t.ownerAuth).rules.map(\.id) == [first.id])
            #expect(await rpcCode { _ = try await cp.alerts.deleteAlertRule(.with { $0.id = keyRule.id }, metadata: t.ownerAuth) } == .notFound)

            let audit = try await cp.audit.listAuditEvents(.with { $0.pageSize = 500 }, metadata: t.ownerAuth).events
            #expect(audit.filter { $0.target == "alert_rule:\(first.id)" }.count == 2)
            #expect(audit.filter { $0.target == "alert_rule:\(keyRule.id)" }.count == 2)
        }
    }

    /// SetAlertRule requests that must fail, with the field the error must name.
    static func badRules(project p: String, key: String) -> [(String, Llmlab_V1_SetAlertRuleRequest)] {
        [
            ("project_id", .init()),
            ("api_key_id", .with { $0.projectID = p; $0.apiKeyID = key }),
            ("project_id", .with { $0.projectID = "nope" }),
            ("thresholds", .with { $0.projectID = p; $0.thresholds = [0] }),
            ("thresholds", .with { $0.projectID = p; $0.thresholds = [50, 1001] }),
            ("thresholds", .with { $0.projectID = p; $0.thresholds = Array(1...11) }),
            ("thresholds", .with { $0.projectID = p; $0.noThresholds = true }),
            ("thresholds", .with { $0.projectID = p; $0.noThresholds = true; $0.thresholds = [50] }),
            ("spike_min_usd", .with { $0.projectID = p; $0.spikeFactor = "3" }),
            ("spike_factor", .with { $0.projectID = p; $0.spikeMinUsd = "3" }),
            ("spike_factor", .with { $0.projectID = p; $0.spikeFactor = "1"; $0.spikeMinUsd = "3" }),
            ("spike_factor", .with { $0.projectID = p; $0.spikeFactor = "lots"; $0.spikeMinUsd = "3" }),
            ("spike_factor", .with { $0.projectID = p; $0.spikeFactor = "2.00001"; $0.spikeMinUsd = "3" }),
            ("spike_min_usd", .with { $0.projectID = p; $0.spikeFactor = "2"; $0.spikeMinUsd = "-1" }),
        ]
    }

    /// CreateChannel requests that must fail, with the field the error must name.
    static let badChannels: [(String, Llmlab_V1_CreateChannelRequest)] = [
        ("recipients", .with { $0.name = "m"; $0.kind = .email }),
        ("recipients", .with { $0.name = "m"; $0.kind = .email; $0.recipients = ["not-an-address"] }),
        ("recipients", .with { $0.name = "m"; $0.kind = .email; $0.recipients = ["a@b.example\r\nRCPT TO:<x@y.z>"] }),
        ("recipients", .with { $0.name = "m"; $0.kind = .email; $0.recipients = (0..<21).map { "u\($0)@x.example" } }),
        ("url", .with { $0.name = "m"; $0.kind = .email; $0.url = "https://x.example"; $0.recipients = ["a@x.example"] }),
        ("recipients", .with { $0.name = "m"; $0.url = "https://x.example"; $0.recipients = ["a@x.example"] }),
    ]

    /// invalidArgument whose message starts with the field (or "invalid <field>:").
    static func namesField(_ error: RPCError?, _ field: String) -> Bool {
        guard let error, error.code == .invalidArgument else { return false }
        return error.message.hasPrefix(field) || error.message.hasPrefix("invalid \(field):")
    }

    @Test("bad rule input is invalidArgument naming the field")
    func badInput() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("rules-bad")
            let (project, key) = try await F.project(cp, t, name: "p", budget: "100")
            let auth = t.ownerAuth
            for (field, request) in Self.badRules(project: project.uuidString, key: key.uuidString) {
                let error = await rpcError { _ = try await cp.alerts.setAlertRule(request, metadata: auth) }
                #expect(Self.namesField(error, field), "\(field): \(String(describing: error))")
            }
            for (field, request) in Self.badChannels {
                let error = await rpcError { _ = try await cp.alerts.createChannel(request, metadata: auth) }
                #expect(Self.namesField(error, field), "\(field): \(String(describing: error))")
            }
            let update = await rpcError { _ = try await cp.alerts.updateChannel(.with { $0.id = UUID().uuidString }, metadata: auth) }
            #expect(Self.namesField(update, "disabled"))
            #expect(await rpcCode { _ = try await cp.alerts.setAlertRule(.with { $0.projectID = UUID().uuidString }, metadata: auth) } == .notFound)
            #expect(await rpcCode { _ = try await cp.alerts.setAlertRule(.with { $0.apiKeyID = UUID().uuidString }, metadata: auth) } == .notFound)
        }
    }

    @Test("disable, enable and rotate: a disabled channel gets no alert; the rotated secret signs; email has no secret")
    func channelState() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("rules-channels")
            let receiver = WebhookReceiver()
            try await receiver.serving { url in
                let hook = try await cp.alerts.createChannel(.with { $0.name = "hook"; $0.url = url }, metadata: t.ownerAuth)
                let off = try await cp.alerts.updateChannel(.with { $0.id = hook.channel.id; $0.disabled = true }, metadata: t.ownerAuth)
                #expect(off.channel.disabled)
                let (project, key) = try await F.project(cp, t, name: "p", budget: "10")
                try await F.spend(cp, t, project: project, key: key, at: Date(), cost: "6")
                let report = await F.evaluator(cp).runOnce()
                #expect(report.fired == 1 && report.enqueued == 0)
                let on = try await cp.alerts.updateChannel(.with { $0.id = hook.channel.id; $0.disabled = false }, metadata: t.ownerAuth)
                #expect(!on.channel.disabled)

                let rotated = try await cp.alerts.rotateChannelSecret(.with { $0.id = hook.channel.id }, metadata: t.ownerAuth)
                #expect(rotated.secret.hasPrefix("whsec_") && rotated.secret != hook.secret)
                #expect(rotated.channel.secretLastFour == String(rotated.secret.suffix(4)))
                let test = try await cp.alerts.testChannel(.with { $0.id = hook.channel.id }, metadata: t.ownerAuth)
                let delivery = try await AlertTests.drive(AlertTests.deliverer(cp), cp, t.ownerAuth, delivery: test.deliveryID)
                #expect(delivery.status == .delivered)
                let got = try #require(receiver.received.last)
                #expect(got.headers["x-llmlab-signature"] == "sha256=" + AlertTests.hexHMAC(rotated.secret, got.body))
                #expect(got.headers["x-llmlab-signature"] != "sha256=" + AlertTests.hexHMAC(hook.secret, got.body))

                let mail = try await cp.alerts.createChannel(.with { $0.name = "mail"; $0.kind = .email; $0.recipients = ["a@x.example"] },
                                                             metadata: t.ownerAuth)
                #expect(await rpcCode { _ = try await cp.alerts.rotateChannelSecret(.with { $0.id = mail.channel.id }, metadata: t.ownerAuth) }
                        == .failedPrecondition)
                let audit = try await cp.audit.listAuditEvents(.with { $0.pageSize = 500 }, metadata: t.ownerAuth)
                let json = try audit.jsonString()
                #expect(json.contains("secret_rotated"))
                #expect(!json.contains(rotated.secret))
            }
        }
    }

    @Test("history lists fired alerts with their delivery summary; viewers read, cannot change; other tenants' ids are not found")
    func historyRBACAndIsolation() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("rules-a")
            let b = try await cp.makeTenant("rules-b")
            _ = try await cp.alerts.createChannel(.with { $0.name = "hook"; $0.url = "http://127.0.0.1:1/hook" }, metadata: a.ownerAuth)
            let (project, key) = try await F.project(cp, a, name: "p", budget: "10")
            try await F.spend(cp, a, project: project, key: key, at: Date(), cost: "8")
            #expect(await F.evaluator(cp).runOnce().fired == 2)
            let history = try await cp.alerts.listAlerts(.init(), metadata: a.ownerAuth).alerts
            #expect(history.count == 2)
            #expect(Set(history.map(\.thresholdPct)) == [50, 80])
            #expect(history.allSatisfy { $0.kind == "budget_threshold" && $0.subjectName == "p" && $0.limitUsd == "10" && $0.observedUsd == "8" })
            #expect(history.allSatisfy { $0.deliveriesPending == 1 && $0.deliveriesDelivered == 0 && $0.hasFiredAt })
            #expect(try await cp.alerts.listAlerts(.with { $0.subjectID = UUID().uuidString }, metadata: a.ownerAuth).alerts.isEmpty)
            #expect(try await cp.alerts.listAlerts(.with { $0.subjectID = project.uuidString; $0.limit = 1 }, metadata: a.ownerAuth).alerts.count == 1)

            // Tenant b sees none of it, and cannot address a's project, key, rule or channel.
            #expect(try await cp.alerts.listAlerts(.init(), metadata: b.ownerAuth).alerts.isEmpty)
            let rule = try await cp.alerts.setAlertRule(.with { $0.projectID = project.uuidString; $0.forecast = true }, metadata: a.ownerAuth).rule
            let channels = try await cp.alerts.listChannels(.init(), metadata: a.ownerAuth).channels
            for call in [
                { _ = try await cp.alerts.setAlertRule(.with { $0.projectID = project.uuidString }, metadata: b.ownerAuth) },
                { _ = try await cp.alerts.setAlertRule(.with { $0.apiKeyID = key.uuidString }, metadata: b.ownerAuth) },
                { _ = try await cp.alerts.deleteAlertRule(.with { $0.id = rule.id }, metadata: b.ownerAuth) },
                { _ = try await cp.alerts.updateChannel(.with { $0.id = channels[0].id; $0.disabled = true }, metadata: b.ownerAuth) },
                { _ = try await cp.alerts.rotateChannelSecret(.with { $0.id = channels[0].id }, metadata: b.ownerAuth) },
            ] as [@Sendable () async throws -> Void] {
                #expect(await rpcCode(call) == .notFound)
            }
            #expect(try await cp.alerts.listAlertRules(.init(), metadata: b.ownerAuth).rules.isEmpty)

            let (_, viewer) = try await cp.signedInUser(a, role: .viewer)
            let asViewer = TestControlPlane.auth(viewer)
            #expect(try await cp.alerts.listAlerts(.init(), metadata: asViewer).alerts.count == 2)
            #expect(try await cp.alerts.listAlertRules(.init(), metadata: asViewer).rules.count == 1)
            for call in [
                { _ = try await cp.alerts.setAlertRule(.with { $0.projectID = project.uuidString }, metadata: asViewer) },
                { _ = try await cp.alerts.deleteAlertRule(.with { $0.id = rule.id }, metadata: asViewer) },
                { _ = try await cp.alerts.updateChannel(.with { $0.id = channels[0].id; $0.disabled = true }, metadata: asViewer) },
                { _ = try await cp.alerts.rotateChannelSecret(.with { $0.id = channels[0].id }, metadata: asViewer) },
            ] as [@Sendable () async throws -> Void] {
                #expect(await rpcCode(call) == .permissionDenied)
            }
        }
    }

    @Test("end to end: usage crossing a threshold reaches the webhook within a bounded wait, with the running services")
    func endToEndWithinBound() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("rules-e2e")
            let receiver = WebhookReceiver()
            try await receiver.serving { url in
                _ = try await cp.alerts.createChannel(.with { $0.name = "hook"; $0.url = url }, metadata: t.ownerAuth)
                let (project, key) = try await F.project(cp, t, name: "live", budget: "20")
                let evaluator = F.evaluator(cp, interval: .milliseconds(250))
                var configuration = WebhookDeliverer.Configuration()
                configuration.pollInterval = .milliseconds(100)
                let deliverer = WebhookDeliverer(database: cp.database.database, keyVault: cp.plane.keyVault,
                                                 configuration: configuration, logger: TestControlPlane.logger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await evaluator.run() }
                    group.addTask { try await deliverer.run() }
                    defer { group.cancelAll() }
                    try await Task.sleep(for: .milliseconds(300))
                    let crossed = ContinuousClock.now
                    try await F.spend(cp, t, project: project, key: key, at: Date(), cost: "10.5")
                    while receiver.received.isEmpty, ContinuousClock.now - crossed < .seconds(10) {
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    let lag = ContinuousClock.now - crossed
                    #expect(lag < .seconds(5), "alert took \(lag)")
                }
                let got = try #require(receiver.received.first)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(got.body)) as? [String: Any])
                let data = try #require(json["data"] as? [String: String])
                #expect(json["event"] as? String == "budget_threshold")
                #expect(data["threshold_pct"] == "50")
                #expect(data["spent_usd"] == "10.5")
                #expect(data["subject_name"] == "live")
                #expect(data["alert_id"]?.isEmpty == false)
            }
        }
    }
}
