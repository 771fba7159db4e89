public import Foundation
import AsyncHTTPClient
import LLMLabCore
public import LLMLabSecurity
public import LLMLabStore
public import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
public import ServiceLifecycle

/// Sends alert deliveries to their channels (webhook and Slack POSTs, email through the
/// SMTP relay), in every tenant schema, every
/// ``Configuration/pollInterval``. Which alerts exist and which deliveries they get is the
/// ``AlertEvaluator``'s job (including the proxy's `budget_events`); this only sends.
///
/// A POST carries the stored JSON payload, `x-llmlab-event`, `x-llmlab-delivery` and
/// `x-llmlab-signature: sha256=<hex HMAC-SHA256(secret, body)>`. A 2xx answer delivers; any
/// other answer or a transport error schedules a retry after `backoff · 2^(attempt-1)`,
/// until ``Configuration/maxAttempts`` attempts, then the delivery fails. Final states are
/// audited in the tenant's audit log as `system:alerts`.
///
/// Due deliveries are claimed with a lease (their next_attempt_at moves forward in the
/// claiming transaction), so the HTTP call runs outside any transaction and a second
/// server does not send the same attempt.
public final class WebhookDeliverer: Service, Sendable {
    public struct Configuration: Sendable {
        public var pollInterval: Duration = .seconds(1)
        /// Delay before the second attempt; doubled for each further one.
        public var backoff: Duration = .seconds(1)
        public var maxAttempts: Int = 5
        /// Per-attempt limit, connect to last byte.
        public var timeout: Duration = .seconds(10)
        /// Deliveries claimed per tenant per pass (sent concurrently).
        public var batchSize: Int = 20

        public init() {}
    }

    /// What one pass did.
    public struct Report: Sendable, Hashable {
        public var attempts = 0
        public var delivered = 0
        public var failed = 0
        public var failedTenants = 0
    }

    public let configuration: Configuration
    let database: Database
    let keyVault: KeyVault
    let logger: Logger
    let auditor: Auditor
    let httpClient: HTTPClient
    /// Email channels' relay; nil when the server has no `--smtp-url` (their deliveries then
    /// fail with an error that says so).
    let smtp: SMTPClient?
    let smtpSetupError: String?

    public init(database: Database, keyVault: KeyVault, configuration: Configuration = .init(), smtp: SMTPConfiguration? = nil,
                logger: Logger) {
        self.database = database
        self.keyVault = keyVault
        self.configuration = configuration
        self.logger = logger
        self.auditor = Auditor(logger: logger)
        if let smtp {
            do {
                self.smtp = try SMTPClient(configuration: smtp)
                self.smtpSetupError = nil
            } catch {
                self.smtp = nil
                self.smtpSetupError = "the SMTP relay's TLS settings are unusable (--smtp-ca-file): \(error)"
                logger.error("email alert channels cannot send", metadata: ["smtp": "\(smtp)", "error": "\(error)"])
            }
        } else {
            self.smtp = nil
            self.smtpSetupError = nil
        }
        var http = HTTPClient.Configuration(redirectConfiguration: .disallow, timeout: .init(
            connect: .nanoseconds(Self.nanoseconds(configuration.timeout)), read: .nanoseconds(Self.nanoseconds(configuration.timeout))))
        http.decompression = .disabled
        self.httpClient = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
    }

    deinit {
        try? httpClient.syncShutdown()
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }

    public func run() async throws {
        let interval = configuration.pollInterval
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = await self.runOnce()
                try? await Task.sleep(for: interval)
            }
        }
        try? await httpClient.shutdown()
    }

    /// One pass over every tenant. A tenant that fails is logged and skipped.
    @discardableResult
    public func runOnce(now: Date = Date()) async -> Report {
        var report = Report()
        let tenants: [TenantRecord]
        do {
            let logger = self.logger
            tenants = try await database.withControlTransaction { connection in
                let repository = TenantRepository(connection, logger: logger)
                var result: [TenantRecord] = []
                for scope in try await repository.allScopes() {
                    if let tenant = try await repository.find(id: scope.tenantID) { result.append(tenant) }
                }
                return result
            }
        } catch {
            logger.warning("alert deliverer could not list tenants", metadata: ["error": "\(String(reflecting: error))"])
            return report
        }
        for tenant in tenants {
            if Task.isCancelled { break }
            do {
                let sent = try await deliverDue(tenant, now: now)
                report.attempts += sent.attempts
                report.delivered += sent.delivered
                report.failed += sent.failed
            } catch {
                report.failedTenants += 1
                logger.warning("alert delivery failed for a tenant",
                               metadata: ["tenant": "\(tenant.scope)", "error": "\(String(reflecting: error))"])
            }
        }
        return report
    }

    /// Claims the tenant's due deliveries, sends them concurrently, records each attempt.
    func deliverDue(_ tenant: TenantRecord, now: Date) async throws -> (attempts: Int, delivered: Int, failed: Int) {
        let logger = self.logger
        let limit = configuration.batchSize
        // Long enough for the attempt to finish and be recorded; a crash retries after it.
        let lease = now.addingTimeInterval(Self.seconds(configuration.timeout) * 3 + 30)
        let due = try await database.withTenantTransaction(tenant.scope) { connection in
            try await AlertRepository(connection, logger: logger).claimDue(now: now, leaseUntil: lease, limit: limit)
        }
        guard !due.isEmpty else { return (0, 0, 0) }
        let dataKey = try keyVault.unwrap([UInt8](tenant.wrappedDataKey), tenantID: tenant.id.uuidString.lowercased())
        return await withTaskGroup(of: AlertDeliveryRecord.Status?.self) { group in
            for item in due {
                group.addTask {
                    do {
                        return try await self.attempt(item, tenant: tenant, dataKey: dataKey)
                    } catch {
                        logger.warning("alert delivery attempt could not be recorded",
                                       metadata: ["delivery": "\(item.delivery.id)", "error": "\(String(reflecting: error))"])
                        return nil
                    }
                }
            }
            var result = (attempts: 0, delivered: 0, failed: 0)
            for await status in group {
                guard let status else { continue }
                result.attempts += 1
                if status == .delivered { result.delivered += 1 }
                if status == .failed { result.failed += 1 }
            }
            return result
        }
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }

    /// One HTTP attempt and its record (plus an audit row when the delivery reaches a
    /// final state).
    func attempt(_ item: DueAlertDelivery, tenant: TenantRecord, dataKey: DataKey) async throws -> AlertDeliveryRecord.Status {
        let delivery = item.delivery
        var statusCode: Int?
        var errorText = ""
        if item.kind == "email" {
            do {
                try await sendEmail(item)
            } catch let error as SMTPError {
                statusCode = error.replyCode
                errorText = error.description
            } catch {
                errorText = Self.describe(error)
            }
        } else {
            do {
                let secret = try dataKey.open([UInt8](item.sealedSecret),
                                              associatedData: AlertSecret.associatedData(tenantID: tenant.id, channelID: delivery.channelID))
                statusCode = try await post(item, secret: secret)
                if let code = statusCode, !(200..<300).contains(code) { errorText = "HTTP \(code)" }
            } catch {
                errorText = Self.describe(error)
            }
        }
        let finishedAt = Date()
        let (statusCodeValue, errorTextValue) = (statusCode, errorText)
        let attemptNumber = delivery.attempts + 1
        let status: AlertDeliveryRecord.Status
        if errorText.isEmpty {
            status = .delivered
        } else if attemptNumber >= configuration.maxAttempts {
            status = .failed
        } else {
            status = .pending
        }
        let delay = Self.seconds(configuration.backoff) * pow(2, Double(attemptNumber - 1))
        let next = status == .pending ? finishedAt.addingTimeInterval(delay) : finishedAt
        let logger = self.logger
        let auditor = self.auditor
        try await database.withTenantTransaction(tenant.scope) { connection in
            _ = try await AlertRepository(connection, logger: logger).recordAttempt(
                id: delivery.id, status: status, statusCode: statusCodeValue, error: errorTextValue, nextAttemptAt: next, at: finishedAt)
            guard status != .pending else { return }
            let context = CallContext(principal: nil, requestID: delivery.id.uuidString.lowercased(), peer: "",
                                      method: "llmlab.alerts/DeliverWebhook")
            try await CallContext.$current.withValue(context) {
                try await auditor.record(
                    on: connection, log: .tenant(tenant.scope), target: "alert_delivery:\(delivery.id.uuidString.lowercased())",
                    outcome: status == .delivered ? .success : .failed,
                    detail: ["channel": delivery.channelID.uuidString.lowercased(), "event_kind": delivery.eventKind,
                             "attempts": String(attemptNumber), "status": status.rawValue,
                             "status_code": statusCodeValue.map(String.init) ?? "none"],
                    actor: "system:alerts")
            }
        }
        if status == .failed {
            logger.notice("alert delivery failed for good", metadata: [
                "tenant": "\(tenant.scope)", "delivery": "\(delivery.id)", "error": "\(errorText)"])
        }
        return status
    }

    /// Hands the alert to the SMTP relay as one text/plain message to the channel's
    /// recipients; 4xx/5xx replies and connection errors throw (and are retried).
    func sendEmail(_ item: DueAlertDelivery) async throws {
        guard let smtp else {
            throw SMTPError(.connect, smtpSetupError
                ?? "email channels need the server's SMTP relay: start llmlab-server with --smtp-url and --smtp-from")
        }
        let message = AlertEmail.message(payload: item.delivery.payload, event: item.delivery.eventKind,
                                         deliveryID: item.delivery.id, from: smtp.configuration.from, to: item.recipients,
                                         date: Date())
        try await smtp.send(message, to: item.recipients)
    }

    /// POSTs the payload; returns the HTTP status code.
    func post(_ item: DueAlertDelivery, secret: String) async throws -> Int {
        let body = item.kind == "slack"
            ? SlackMessage.body(forPayload: item.delivery.payload, event: item.delivery.eventKind)
            : Array(item.delivery.payload.utf8)
        var request = HTTPClientRequest(url: item.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "llmlab-webhooks/1")
        request.headers.add(name: "x-llmlab-event", value: item.delivery.eventKind)
        request.headers.add(name: "x-llmlab-delivery", value: item.delivery.id.uuidString.lowercased())
        request.headers.add(name: "x-llmlab-signature", value: AlertSecret.signature(secret: secret, body: body))
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await httpClient.execute(request, timeout: .nanoseconds(Self.nanoseconds(configuration.timeout)))
        // Read (a bounded part of) the answer so the connection can be reused.
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return Int(response.status.code)
    }

    /// A short, non-secret description of a transport error for the delivery log.
    static func describe(_ error: any Error) -> String {
        let text: String
        if let error = error as? HTTPClientError { text = "\(error)" } else { text = String(describing: type(of: error)) + ": \(error)" }
        return String(text.prefix(500))
    }
}
