import Foundation
import GRPCCore
@testable import LLMLabAPI
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import SwiftProtobuf
import Testing

/// Email channels end to end: the evaluator fires, the deliverer sends through a local
/// SMTP sink over STARTTLS with AUTH, and refusals land in the delivery log.
@Suite("Alert email")
struct AlertEmailTests {
    typealias F = AlertFixtures
    static let password = "p@ss word:with/odd%chars"

    static func smtp(port: Int, caFile: String?, startTLS: SMTPConfiguration.StartTLS = .required,
                     auth: Bool = true) -> SMTPConfiguration {
        var configuration = SMTPConfiguration(host: "127.0.0.1", port: port, username: auth ? "alerts-bot" : nil,
                                              password: auth ? password : nil, from: "alerts@llmlab.test", startTLS: startTLS,
                                              caFile: caFile)
        configuration.timeout = .seconds(5)
        return configuration
    }

    static func deliverer(_ cp: TestControlPlane, smtp: SMTPConfiguration, maxAttempts: Int = 5) -> WebhookDeliverer {
        var configuration = WebhookDeliverer.Configuration()
        configuration.backoff = .milliseconds(40)
        configuration.maxAttempts = maxAttempts
        return WebhookDeliverer(database: cp.database.database, keyVault: cp.plane.keyVault, configuration: configuration,
                                smtp: smtp, logger: TestControlPlane.logger)
    }

    /// Runs the deliverer until every delivery has left `pending`.
    static func settle(_ deliverer: WebhookDeliverer, _ cp: TestControlPlane, _ auth: Metadata) async throws -> [Llmlab_V1_AlertDelivery] {
        for _ in 0..<200 {
            await deliverer.runOnce()
            let deliveries = try await cp.alerts.listDeliveries(.init(), metadata: auth).deliveries
            if !deliveries.isEmpty, deliveries.allSatisfy({ $0.status != .pending }) { return deliveries }
            try await Task.sleep(for: .milliseconds(30))
        }
        throw RPCError(code: .deadlineExceeded, message: "deliveries stayed pending")
    }

    @Test("a budget alert reaches the SMTP sink over STARTTLS with AUTH, as RFC 5322 text/plain UTF-8")
    func emailOverStartTLS() async throws {
        let sink = try SMTPSink()
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("email-co")
            try await sink.serving { port in
                let created = try await cp.alerts.createChannel(.with {
                    $0.name = "ops mail"
                    $0.kind = .email
                    $0.recipients = ["Ops@Example.com", "lead@example.com, ops@example.com"]
                }, metadata: t.ownerAuth)
                #expect(created.channel.kind == .email)
                #expect(created.channel.recipients == ["ops@example.com", "lead@example.com"])
                #expect(created.channel.url.isEmpty)
                #expect(created.secret.isEmpty)
                #expect(created.channel.secretLastFour.isEmpty)

                let (project, key) = try await F.project(cp, t, name: "Séarch bot", budget: "100")
                try await F.spend(cp, t, project: project, key: key, at: Date(), cost: "51.25")
                #expect(await F.evaluator(cp).runOnce().enqueued == 1)
                let deliveries = try await Self.settle(Self.deliverer(cp, smtp: Self.smtp(port: port, caFile: sink.caFile)), cp, t.ownerAuth)
                let delivery = try #require(deliveries.first)
                #expect(delivery.status == .delivered, "\(delivery.lastError)")
                #expect(delivery.eventKind == "budget_threshold")

                let message = try #require(sink.messages.first)
                #expect(sink.messages.count == 1)
                #expect(message.tls)
                #expect(message.authenticatedAs == "alerts-bot")
                #expect(message.password == Self.password)
                #expect(message.from == "alerts@llmlab.test")
                #expect(message.recipients == ["ops@example.com", "lead@example.com"])
                #expect(message.header("From") == "alerts@llmlab.test")
                #expect(message.header("To") == "ops@example.com, lead@example.com")
                #expect(message.header("Message-ID") == "<\(delivery.id)@llmlab.test>")
                #expect(message.header("Date")?.hasSuffix("+0000") == true)
                #expect(message.header("Content-Type") == "text/plain; charset=UTF-8")
                #expect(message.header("MIME-Version") == "1.0")
                #expect(message.header("X-LLMLab-Event") == "budget_threshold")
                // The subject names a non-ASCII project: an RFC 2047 encoded word.
                let subject = try #require(message.header("Subject"))
                #expect(subject.hasPrefix("=?UTF-8?B?"))
                // Non-ASCII body: base64; decoded, it carries the readable line and the figures.
                #expect(message.header("Content-Transfer-Encoding") == "base64")
                let body = String(decoding: Data(base64Encoded: message.body.replacingOccurrences(of: "\r\n", with: "")) ?? Data(),
                                  as: UTF8.self)
                #expect(body.hasPrefix("LLMLab budget alert: project 'Séarch bot' reached 50% of its monthly budget ($51.25 of $100)"))
                #expect(body.contains("threshold_pct: 50\n"))
                #expect(body.contains("spent_usd: 51.25\n"))
                #expect(!message.data.contains(Self.password))
            }
        }
    }

    @Test("smtps:// (implicit TLS) with AUTH LOGIN")
    func implicitTLSWithLogin() async throws {
        let sink = try SMTPSink(options: .init(implicitTLS: true, mechanisms: "LOGIN"))
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("email-smtps")
            try await sink.serving { port in
                let channel = try await cp.alerts.createChannel(.with {
                    $0.name = "mail"
                    $0.kind = .email
                    $0.recipients = ["ops@example.com"]
                }, metadata: t.ownerAuth)
                _ = try await cp.alerts.testChannel(.with { $0.id = channel.channel.id }, metadata: t.ownerAuth)
                var smtp = Self.smtp(port: port, caFile: sink.caFile)
                smtp.implicitTLS = true
                let deliveries = try await Self.settle(Self.deliverer(cp, smtp: smtp, maxAttempts: 1), cp, t.ownerAuth)
                #expect(deliveries.first?.status == .delivered, "\(deliveries.first?.lastError ?? "")")
                let message = try #require(sink.messages.first)
                #expect(message.tls)
                #expect(message.authenticatedAs == "alerts-bot" && message.password == Self.password)
                #expect(message.header("Subject") == "LLMLab test alert: this channel receives LLMLab alerts.")
                #expect(message.header("Content-Transfer-Encoding") == "7bit")
                #expect(message.body.contains("event: test\r\n"))
            }
        }
    }

    @Test("a server certificate the configured CA did not sign fails TLS")
    func untrustedCertificate() async throws {
        let sink = try SMTPSink()
        let other = try SMTPSink()  // another development CA
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("email-untrusted")
            try await sink.serving { port in
                let channel = try await cp.alerts.createChannel(.with {
                    $0.name = "mail"
                    $0.kind = .email
                    $0.recipients = ["ops@example.com"]
                }, metadata: t.ownerAuth)
                _ = try await cp.alerts.testChannel(.with { $0.id = channel.channel.id }, metadata: t.ownerAuth)
                let deliveries = try await Self.settle(Self.deliverer(cp, smtp: Self.smtp(port: port, caFile: other.caFile), maxAttempts: 1),
                                                       cp, t.ownerAuth)
                #expect(deliveries.first?.status == .failed)
                #expect(deliveries.first?.lastError.contains("TLS") == true, "\(deliveries.first?.lastError ?? "")")
                #expect(deliveries.first?.lastError.contains(Self.password) == false)
                #expect(sink.messages.isEmpty)
            }
        }
    }

    @Test("dot-stuffing: a body line starting with '.' survives DATA")
    func dotStuffing() {
        let message = EmailMessage(from: "a@x.test", to: ["b@x.test"], subject: "s", body: ".hidden\n..two\nend.", messageID: "m@x.test",
                                   date: Date(timeIntervalSince1970: 0))
        let data = EmailMessage.dataSection(message.rendered())
        #expect(data.hasSuffix("\r\nend.\r\n.\r\n"))
        #expect(data.contains("\r\n..hidden\r\n...two\r\n"))
        #expect(message.rendered().contains("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"))
        #expect(!data.contains("\n.\r\n.") && !data.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
    }

    @Test("a refused RCPT is retried, then failed, with the SMTP reply in the delivery log and never the password")
    func refusedRecipient() async throws {
        let sink = try SMTPSink(options: .init(rcptReply: "550 5.1.1 <nobody@example.com>: mailbox unavailable"))
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("email-refused")
            try await sink.serving { port in
                let channel = try await cp.alerts.createChannel(.with {
                    $0.name = "mail"
                    $0.kind = .email
                    $0.recipients = ["nobody@example.com"]
                }, metadata: t.ownerAuth)
                let test = try await cp.alerts.testChannel(.with { $0.id = channel.channel.id }, metadata: t.ownerAuth)
                let deliveries = try await Self.settle(Self.deliverer(cp, smtp: Self.smtp(port: port, caFile: sink.caFile), maxAttempts: 2),
                                                       cp, t.ownerAuth)
                let delivery = try #require(deliveries.first { $0.id == test.deliveryID })
                #expect(delivery.status == .failed)
                #expect(delivery.attempts == 2)
                #expect(delivery.lastStatusCode == 550)
                #expect(delivery.lastError.contains("RCPT TO <nobody@example.com> refused"))
                #expect(delivery.lastError.contains("mailbox unavailable"))
                #expect(!delivery.lastError.contains(Self.password))
                #expect(sink.messages.isEmpty)
                let audit = try await cp.audit.listAuditEvents(.with { $0.pageSize = 500 }, metadata: t.ownerAuth)
                #expect(!(try audit.jsonString()).contains(Self.password))
            }
        }
    }

    @Test("STARTTLS required but not offered: the delivery fails and says why; the password is never sent in plaintext")
    func startTLSRequired() async throws {
        let sink = try SMTPSink(options: .init(startTLS: false))
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("email-notls")
            try await sink.serving { port in
                let channel = try await cp.alerts.createChannel(.with {
                    $0.name = "mail"
                    $0.kind = .email
                    $0.recipients = ["ops@example.com"]
                }, metadata: t.ownerAuth)
                _ = try await cp.alerts.testChannel(.with { $0.id = channel.channel.id }, metadata: t.ownerAuth)
                var deliveries = try await Self.settle(Self.deliverer(cp, smtp: Self.smtp(port: port, caFile: sink.caFile), maxAttempts: 1),
                                                       cp, t.ownerAuth)
                #expect(deliveries.first?.status == .failed)
                #expect(deliveries.first?.lastError.contains("does not offer STARTTLS") == true)
                // Opportunistic: plaintext is allowed, but AUTH over it is refused.
                _ = try await cp.alerts.testChannel(.with { $0.id = channel.channel.id }, metadata: t.ownerAuth)
                deliveries = try await Self.settle(
                    Self.deliverer(cp, smtp: Self.smtp(port: port, caFile: sink.caFile, startTLS: .opportunistic), maxAttempts: 1),
                    cp, t.ownerAuth)
                #expect(deliveries.first?.lastError.contains("unencrypted") == true)
                #expect(sink.messages.isEmpty)
                // Without credentials, opportunistic sends in plaintext.
                _ = try await cp.alerts.testChannel(.with { $0.id = channel.channel.id }, metadata: t.ownerAuth)
                deliveries = try await Self.settle(
                    Self.deliverer(cp, smtp: Self.smtp(port: port, caFile: nil, startTLS: .opportunistic, auth: false), maxAttempts: 1),
                    cp, t.ownerAuth)
                #expect(deliveries.first?.status == .delivered)
                #expect(sink.messages.count == 1)
                #expect(sink.messages.first?.tls == false)
                #expect(sink.messages.first?.header("Content-Transfer-Encoding") == "7bit")
            }
        }
    }

    @Test("no SMTP relay configured: email deliveries fail with an error naming --smtp-url")
    func noRelay() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("email-norelay")
            let channel = try await cp.alerts.createChannel(.with {
                $0.name = "mail"
                $0.kind = .email
                $0.recipients = ["ops@example.com"]
            }, metadata: t.ownerAuth)
            _ = try await cp.alerts.testChannel(.with { $0.id = channel.channel.id }, metadata: t.ownerAuth)
            var configuration = WebhookDeliverer.Configuration()
            configuration.maxAttempts = 1
            let deliverer = WebhookDeliverer(database: cp.database.database, keyVault: cp.plane.keyVault, configuration: configuration,
                                             logger: TestControlPlane.logger)
            let deliveries = try await Self.settle(deliverer, cp, t.ownerAuth)
            #expect(deliveries.first?.status == .failed)
            #expect(deliveries.first?.lastError.contains("--smtp-url") == true)
        }
    }

    @Test("SMTP settings: URL forms, defaults, and errors that never echo the password")
    func configuration() throws {
        let plain = try SMTPConfiguration.parse(url: "smtp://relay.example", from: "a@b.example", startTLS: nil, caFile: nil)
        #expect(plain.port == 25 && !plain.implicitTLS && plain.startTLS == .required && plain.username == nil)
        let full = try SMTPConfiguration.parse(url: "smtps://bot:se%2Fcret@relay.example:2465", from: "a@b.example",
                                               startTLS: "off", caFile: nil)
        #expect(full.implicitTLS && full.port == 2465 && full.username == "bot" && full.password == "se/cret")
        #expect(!full.description.contains("se/cret") && !full.description.contains("se%2Fcret"))
        var dumped = ""
        dump(full, to: &dumped)
        #expect(!dumped.contains("se/cret") && !String(reflecting: full).contains("se/cret") && !"\([full])".contains("se/cret"))
        let implicit = try SMTPConfiguration.parse(url: "smtps://relay.example", from: "a@b.example", startTLS: "opportunistic", caFile: nil)
        #expect(implicit.port == 465 && implicit.startTLS == .opportunistic)
        for (url, from, mode) in [("http://relay.example", "a@b.example", "required"), ("smtp://", "a@b.example", "required"),
                                  ("smtp://bot:hunter2@relay.example", nil, "required"),
                                  ("smtp://bot:hunter2@relay.example", "not an address", "required"),
                                  ("smtp://bot:hunter2@relay.example", "a@b.example", "sometimes")] as [(String, String?, String)] {
            do {
                _ = try SMTPConfiguration.parse(url: url, from: from, startTLS: mode, caFile: nil)
                Issue.record("\(url) \(String(describing: from)) \(mode) should fail")
            } catch let error as SMTPConfiguration.Error {
                #expect(error.message.hasPrefix("--smtp-"), "\(error.message)")
                #expect(!error.message.contains("hunter2"))
            }
        }
    }
}
