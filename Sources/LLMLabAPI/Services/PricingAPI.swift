import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import SwiftProtobuf
import Logging
import PostgresNIO

/// `llmlab.v1.PricingService`: the tenant's price overrides. A price never changes
/// retroactively: an override starts today or later, and once its day has come (UTC) it
/// can be neither replaced nor deleted — a later override supersedes it instead.
/// Overrides are tenant-wide, so project-scoped API keys may read but not change them.
struct PricingAPI: Llmlab_V1_PricingService.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }

    static let supersedeHint = "add a new override from a later date instead"

    func setPriceOverride(request: Llmlab_V1_SetPriceOverrideRequest, context: ServerContext) async throws -> Llmlab_V1_PriceOverride {
        let (principal, tenant) = try CallContext.require().requireTenant()
        try Self.requireTenantWide(principal)
        let provider = try EnumMapping.provider(request.provider, field: "provider")
        let model = try PriceOverrideValidation.model(request.model)
        let today = PriceDate(containing: Date())
        let effectiveFrom = try PriceOverrideValidation.effectiveFrom(request.effectiveFrom, today: today)
        let prices = try PriceOverrideValidation.prices(request.prices)
        let logger = plane.logger
        let auditor = plane.auditor
        let stored = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let overrides = PriceOverrideRepository(connection, logger: logger)
            let existing = try await overrides.findForUpdate(provider: provider, model: model, effectiveFrom: effectiveFrom)
            if let existing, existing.effectiveFrom <= today {
                throw APIError(.failedPrecondition, "the override for \(provider.rawValue)/\(model) from \(existing.effectiveFrom) is already in effect and cannot change; \(Self.supersedeHint)")
            }
            let stored = if let existing {
                try await overrides.replacePrices(id: existing.id, prices: prices, setBy: principal.actor)
            } else {
                try await overrides.insert(PriceOverrideRecord(
                    id: UUID(), provider: provider, model: model, effectiveFrom: effectiveFrom, prices: prices, setBy: principal.actor))
            }
            var detail = ["provider": provider.rawValue, "model": model, "effective_from": effectiveFrom.description,
                          "event": existing == nil ? "created" : "replaced"]
            for (key, price) in PriceOverrideValidation.entries(prices) { detail[key] = price.description }
            try await auditor.record(on: connection, log: .tenant(tenant.scope),
                                     target: "price_override:\(stored.id.uuidString.lowercased())", detail: detail)
            return stored
        }
        return MessageMapping.priceOverride(stored, today: today)
    }

    func listPriceOverrides(request: Llmlab_V1_ListPriceOverridesRequest, context: ServerContext) async throws -> Llmlab_V1_ListPriceOverridesResponse {
        let (_, tenant) = try CallContext.require().requireTenant()
        let provider = request.provider == .unspecified ? nil : try EnumMapping.provider(request.provider, field: "provider")
        let model = request.model.isEmpty ? nil : try PriceOverrideValidation.model(request.model)
        let limit = try Validate.pageSize(request.pageSize)
        let after = try Self.cursor(request.pageToken)
        let logger = plane.logger
        let overrides = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await PriceOverrideRepository(connection, logger: logger).list(
                provider: provider, model: model, limit: limit + 1, after: after)
        }
        let today = PriceDate(containing: Date())
        let page = Page(overrides, limit: limit) {
            PageCursor.encode([$0.provider.rawValue, $0.model, $0.effectiveFrom.description])
        }
        return Llmlab_V1_ListPriceOverridesResponse.with {
            $0.priceOverrides = page.rows.map { MessageMapping.priceOverride($0, today: today) }
            $0.nextPageToken = page.nextToken
        }
    }

    func deletePriceOverride(request: Llmlab_V1_DeletePriceOverrideRequest, context: ServerContext) async throws -> Llmlab_V1_DeletePriceOverrideResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        try Self.requireTenantWide(principal)
        let id = try Validate.id(request.id, field: "id")
        let today = PriceDate(containing: Date())
        let logger = plane.logger
        let auditor = plane.auditor
        try await plane.database.withTenantTransaction(tenant.scope) { connection in
            let overrides = PriceOverrideRepository(connection, logger: logger)
            guard let existing = try await overrides.find(id: id) else { throw APIError.notFound("price override", request.id) }
            let inEffect = APIError(.failedPrecondition, "price override \(request.id) has been in effect since \(existing.effectiveFrom) and cannot be deleted; \(Self.supersedeHint)")
            guard existing.effectiveFrom > today else { throw inEffect }
            // Conditional on the day, so an override whose day arrives meanwhile stays.
            guard try await overrides.delete(id: id, ifEffectiveAfter: today) else { throw inEffect }
            try await auditor.record(on: connection, log: .tenant(tenant.scope), target: "price_override:\(id.uuidString.lowercased())",
                                     detail: ["provider": existing.provider.rawValue, "model": existing.model,
                                              "effective_from": existing.effectiveFrom.description])
        }
        return Llmlab_V1_DeletePriceOverrideResponse()
    }

    /// Price overrides apply to the whole tenant: a key limited to one project may not change them.
    static func requireTenantWide(_ principal: Principal) throws {
        guard principal.projectID == nil else {
            throw APIError(.permissionDenied, "price overrides apply to the whole tenant; a project-scoped API key cannot change them")
        }
    }

    /// Decodes a ListPriceOverrides page token: the (provider, model, day) of the last row shown.
    static func cursor(_ token: String) throws -> (provider: String, model: String, effectiveFrom: PriceDate)? {
        guard let parts = try PageCursor.decode(token, expectedCount: 3) else { return nil }
        guard let day = PriceDate.parse(parts[2]) else {
            throw ValidationError(field: "page_token", reason: "is not a token this server issued")
        }
        return (parts[0], parts[1], day)
    }
}
