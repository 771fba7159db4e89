public import Foundation
public import Logging
public import PostgresNIO

/// What the proxy last recorded about one upstream target (provider key + model). Health
/// belongs to the target, not to a route, so every route sending traffic there sees it and
/// replacing a route does not forget it.
public struct DeploymentHealthRecord: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        case healthy
        case coolingDown = "cooling_down"
    }

    public var providerKeyID: UUID
    public var model: String
    /// As written; see ``effectiveState(at:)`` for what applies now.
    public var state: State
    public var cooldownUntil: Date?
    public var consecutiveFailures: Int
    /// e.g. "rate_limited", "timeout"; empty when none.
    public var lastErrorClass: String
    public var lastLatencyMilliseconds: Int?
    public var p50LatencyMilliseconds: Int?
    public var updatedAt: Date

    public init(providerKeyID: UUID, model: String, state: State = .healthy, cooldownUntil: Date? = nil,
                consecutiveFailures: Int = 0, lastErrorClass: String = "", lastLatencyMilliseconds: Int? = nil,
                p50LatencyMilliseconds: Int? = nil, updatedAt: Date = Date()) {
        self.providerKeyID = providerKeyID
        self.model = model
        self.state = state
        self.cooldownUntil = cooldownUntil
        self.consecutiveFailures = consecutiveFailures
        self.lastErrorClass = lastErrorClass
        self.lastLatencyMilliseconds = lastLatencyMilliseconds
        self.p50LatencyMilliseconds = p50LatencyMilliseconds
        self.updatedAt = updatedAt
    }

    /// A cooldown that has run out no longer keeps the target from traffic.
    public func effectiveState(at now: Date) -> State {
        guard state == .coolingDown, let until = cooldownUntil, until > now else { return .healthy }
        return .coolingDown
    }
}

/// `deployment_health` in a tenant schema (use inside a tenant transaction). The control
/// plane only reads it; the proxy writes it.
public struct DeploymentHealthRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// The recorded health of every target `routeID` deploys to, keyed by (key, model).
    /// Targets with nothing recorded are absent.
    public func health(ofRoute routeID: UUID) async throws -> [HealthKey: DeploymentHealthRecord] {
        let rows = try await connection.query("""
            SELECT h.provider_key_id, h.model, h.state, h.cooldown_until, h.consecutive_failures, h.last_error_class,
                   h.last_latency_ms, h.p50_latency_ms, h.updated_at
            FROM deployment_health h
            WHERE (h.provider_key_id, h.model) IN
                  (SELECT provider_key_id, model FROM route_deployments WHERE route_id = \(routeID))
            """, logger: logger)
        var result: [HealthKey: DeploymentHealthRecord] = [:]
        for try await (key, model, state, until, failures, errorClass, last, p50, updated) in rows.decode(
            (UUID, String, String, Date?, Int32, String, Int32?, Int32?, Date).self)
        {
            let record = DeploymentHealthRecord(
                providerKeyID: key, model: model, state: DeploymentHealthRecord.State(rawValue: state) ?? .healthy,
                cooldownUntil: until, consecutiveFailures: Int(failures), lastErrorClass: errorClass,
                lastLatencyMilliseconds: last.map(Int.init), p50LatencyMilliseconds: p50.map(Int.init), updatedAt: updated)
            result[HealthKey(providerKeyID: key, model: model)] = record
        }
        return result
    }

    /// Stores `record` as the target's current health, replacing what was there.
    public func put(_ record: DeploymentHealthRecord) async throws {
        try await connection.query("""
            INSERT INTO deployment_health (provider_key_id, model, state, cooldown_until, consecutive_failures,
                                           last_error_class, last_latency_ms, p50_latency_ms, updated_at)
            VALUES (\(record.providerKeyID), \(record.model), \(record.state.rawValue), \(record.cooldownUntil),
                    \(Int32(clamping: record.consecutiveFailures)), \(record.lastErrorClass),
                    \(record.lastLatencyMilliseconds.map { Int32(clamping: $0) }),
                    \(record.p50LatencyMilliseconds.map { Int32(clamping: $0) }), \(record.updatedAt))
            ON CONFLICT (provider_key_id, model) DO UPDATE SET
                state = EXCLUDED.state, cooldown_until = EXCLUDED.cooldown_until,
                consecutive_failures = EXCLUDED.consecutive_failures, last_error_class = EXCLUDED.last_error_class,
                last_latency_ms = EXCLUDED.last_latency_ms, p50_latency_ms = EXCLUDED.p50_latency_ms,
                updated_at = EXCLUDED.updated_at
            """, logger: logger)
    }

    /// The identity of an upstream target in `deployment_health`.
    public struct HealthKey: Sendable, Hashable {
        public var providerKeyID: UUID
        public var model: String

        public init(providerKeyID: UUID, model: String) {
            self.providerKeyID = providerKeyID
            self.model = model
        }
    }
}
