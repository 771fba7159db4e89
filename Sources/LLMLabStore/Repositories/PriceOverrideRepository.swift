public import Foundation
public import LLMLabCore
public import Logging
public import PostgresNIO

/// A tenant's own prices for one model from one UTC day on: a patch over the catalog's
/// prices (a nil price keeps the catalog's).
public struct PriceOverrideRecord: Sendable, Hashable {
    public var id: UUID
    public var provider: Provider
    public var model: String
    public var effectiveFrom: PriceDate
    public var prices: PriceSheet
    /// The audit actor who set these prices last, and when.
    public var setBy: String
    public var setAt: Date

    public init(id: UUID, provider: Provider, model: String, effectiveFrom: PriceDate, prices: PriceSheet,
                setBy: String, setAt: Date = Date()) {
        self.id = id
        self.provider = provider
        self.model = model
        self.effectiveFrom = effectiveFrom
        self.prices = prices
        self.setBy = setBy
        self.setAt = setAt
    }
}

/// `price_overrides` in a tenant schema (use inside a tenant transaction). Prices are
/// NUMERIC and travel as exact decimal text both ways; dates as `YYYY-MM-DD`.
public struct PriceOverrideRepository: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    public init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    static let columns = """
        id, provider, model, effective_from::text, input_usd_per_mtok::text, cached_input_usd_per_mtok::text,
        cache_write_5m_usd_per_mtok::text, cache_write_1h_usd_per_mtok::text, output_usd_per_mtok::text,
        reasoning_usd_per_mtok::text, set_by, set_at
        """

    /// The override for (provider, model, day), locked for replacement.
    public func findForUpdate(provider: Provider, model: String, effectiveFrom: PriceDate) async throws -> PriceOverrideRecord? {
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM price_overrides
            WHERE provider = \(provider.rawValue) AND model = \(model) AND effective_from = \(effectiveFrom.description)::date
            FOR UPDATE
            """, logger: logger)
        return try await Self.decode(rows).first
    }

    public func insert(_ record: PriceOverrideRecord) async throws -> PriceOverrideRecord {
        let p = record.prices
        do {
            let rows = try await connection.query("""
                INSERT INTO price_overrides (id, provider, model, effective_from, input_usd_per_mtok,
                    cached_input_usd_per_mtok, cache_write_5m_usd_per_mtok, cache_write_1h_usd_per_mtok,
                    output_usd_per_mtok, reasoning_usd_per_mtok, set_by)
                VALUES (\(record.id), \(record.provider.rawValue), \(record.model), \(record.effectiveFrom.description)::date,
                        \(p.input?.description)::numeric, \(p.cachedInput?.description)::numeric,
                        \(p.cacheWrite5m?.description)::numeric, \(p.cacheWrite1h?.description)::numeric,
                        \(p.output?.description)::numeric, \(p.reasoning?.description)::numeric, \(record.setBy))
                RETURNING \(unescaped: Self.columns)
                """, logger: logger)
            guard let inserted = try await Self.decode(rows).first else {
                throw StoreError(code: .internal, message: "price override insert returned no row")
            }
            return inserted
        } catch where isUniqueViolation(error) {
            throw StoreError(code: .conflict, message: "an override for \(record.provider.rawValue)/\(record.model) from \(record.effectiveFrom) was set at the same moment; list the overrides and retry")
        }
    }

    /// Replaces every price of an existing override (prices not given become nil).
    public func replacePrices(id: UUID, prices p: PriceSheet, setBy: String) async throws -> PriceOverrideRecord {
        let rows = try await connection.query("""
            UPDATE price_overrides SET
                input_usd_per_mtok = \(p.input?.description)::numeric,
                cached_input_usd_per_mtok = \(p.cachedInput?.description)::numeric,
                cache_write_5m_usd_per_mtok = \(p.cacheWrite5m?.description)::numeric,
                cache_write_1h_usd_per_mtok = \(p.cacheWrite1h?.description)::numeric,
                output_usd_per_mtok = \(p.output?.description)::numeric,
                reasoning_usd_per_mtok = \(p.reasoning?.description)::numeric,
                set_by = \(setBy), set_at = now()
            WHERE id = \(id)
            RETURNING \(unescaped: Self.columns)
            """, logger: logger)
        guard let replaced = try await Self.decode(rows).first else {
            throw StoreError(code: .notFound, message: "price override \(id.uuidString.lowercased()) does not exist")
        }
        return replaced
    }

    public func find(id: UUID) async throws -> PriceOverrideRecord? {
        let rows = try await connection.query(
            "SELECT \(unescaped: Self.columns) FROM price_overrides WHERE id = \(id)", logger: logger)
        return try await Self.decode(rows).first
    }

    /// Ordered by (provider, model, effective_from), keyset-paginated on that triple.
    public func list(
        provider: Provider?, model: String?, limit: Int, after: (provider: String, model: String, effectiveFrom: PriceDate)?
    ) async throws -> [PriceOverrideRecord] {
        let hasProvider = provider != nil
        let hasModel = model != nil
        let hasCursor = after != nil
        let rows = try await connection.query("""
            SELECT \(unescaped: Self.columns) FROM price_overrides
            WHERE (NOT \(hasProvider) OR provider = \(provider?.rawValue ?? ""))
              AND (NOT \(hasModel) OR model = \(model ?? ""))
              AND (NOT \(hasCursor) OR (provider, model, effective_from)
                   > (\(after?.provider ?? ""), \(after?.model ?? ""), \(after?.effectiveFrom.description ?? "1970-01-01")::date))
            ORDER BY provider, model, effective_from LIMIT \(limit)
            """, logger: logger)
        return try await Self.decode(rows)
    }

    /// Deletes the override only while its day is after `today`; false when there is no
    /// such override or it is already in effect.
    public func delete(id: UUID, ifEffectiveAfter today: PriceDate) async throws -> Bool {
        let rows = try await connection.query("""
            DELETE FROM price_overrides WHERE id = \(id) AND effective_from > \(today.description)::date RETURNING id
            """, logger: logger)
        return try await rows.collect().count > 0
    }

    static func decode(_ rows: PostgresRowSequence) async throws -> [PriceOverrideRecord] {
        var result: [PriceOverrideRecord] = []
        for try await row in rows {
            let (id, provider, model, day, input, cached, write5m, write1h, output, reasoning, setBy, setAt) = try row.decode(
                (UUID, String, String, String, String?, String?, String?, String?, String?, String?, String, Date).self)
            guard let provider = Provider(rawValue: provider), let effectiveFrom = PriceDate.parse(day) else {
                throw StoreError(code: .internal, message: "price override \(id.uuidString.lowercased()) has an unreadable provider or date")
            }
            func price(_ text: String?, _ column: String) throws -> TokenPrice? {
                guard let text else { return nil }
                do {
                    return try TokenPrice.parse(text, field: column)
                } catch {
                    throw StoreError(code: .internal, message: "price override \(id.uuidString.lowercased()) has an unreadable \(column)")
                }
            }
            let prices = PriceSheet(
                input: try price(input, "input"), cachedInput: try price(cached, "cached_input"),
                cacheWrite5m: try price(write5m, "cache_write_5m"), cacheWrite1h: try price(write1h, "cache_write_1h"),
                output: try price(output, "output"), reasoning: try price(reasoning, "reasoning"))
            result.append(PriceOverrideRecord(id: id, provider: provider, model: model, effectiveFrom: effectiveFrom,
                                              prices: prices, setBy: setBy, setAt: setAt))
        }
        return result
    }
}
