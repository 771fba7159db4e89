import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTracing
import Logging
import PostgresNIO
import SwiftProtobuf

/// `llmlab.v1.AnalyticsService`: cost sums, top spenders, month-end forecasts and model
/// health of the caller's tenant, read only from the hourly rollup `usage_rollup_hourly`
/// (never from raw usage events). A project-scoped key sees only its project; ids the
/// caller may not see (another tenant's, another project's) are `notFound`.
struct AnalyticsAPI: Llmlab_V1_AnalyticsService.SimpleServiceProtocol {
    let plane: ControlPlane

    init(_ plane: ControlPlane) { self.plane = plane }

    /// Longest range one query may cover.
    static let maximumRange: TimeInterval = 366 * 86_400
    /// Most groups one QueryCost answers.
    static let maximumGroups = 10_000

    func queryCost(request: Llmlab_V1_QueryCostRequest, context: ServerContext) async throws -> Llmlab_V1_QueryCostResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        var groupBy: [AnalyticsDimension] = []
        for (index, value) in request.groupBy.enumerated() {
            let dimension = try Self.dimension(value, field: "group_by[\(index)]")
            guard !groupBy.contains(dimension) else {
                throw ValidationError(field: "group_by[\(index)]", reason: "names \(dimension.rawValue) twice")
            }
            groupBy.append(dimension)
        }
        let scope = try await resolve(request.filter, hasFilter: request.hasFilter, principal: principal, tenant: tenant)
        try Self.checkUserCombination(scope.filter, groupBy: groupBy, field: "group_by")
        let logger = plane.logger
        let filter = scope.filter
        let dimensions = groupBy
        let (groups, total) = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await scope.check(on: connection, logger: logger)
            let repository = UsageAnalyticsRepository(connection, logger: logger)
            let groups = try await repository.groups(filter, groupBy: dimensions, limit: Self.maximumGroups + 1)
            return (groups, groups.count > Self.maximumGroups ? UsageTotals() : try UsageTotals.sum(groups.map(\.totals)))
        }
        guard groups.count <= Self.maximumGroups else {
            throw ValidationError(field: "group_by", reason: "gives more than \(Self.maximumGroups) groups; narrow the time range or group by fewer dimensions")
        }
        return Llmlab_V1_QueryCostResponse.with {
            $0.groups = groupBy.isEmpty ? [] : groups.map(Self.message)
            $0.total = Self.message(total)
        }
    }

    func topN(request: Llmlab_V1_TopNRequest, context: ServerContext) async throws -> Llmlab_V1_TopNResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        if request.dimension == .trace { return try await topTraces(request, principal: principal, tenant: tenant) }
        let dimension = try Self.dimension(request.dimension, field: "dimension")
        guard !dimension.isTimeDimension else {
            throw ValidationError(field: "dimension", reason: "must be provider, model, project, api key, route or user (rank days with QueryCost)")
        }
        let limit = try Validate.pageSize(request.limit, field: "limit", default: 10, maximum: 100)
        let scope = try await resolve(request.filter, hasFilter: request.hasFilter, principal: principal, tenant: tenant)
        try Self.checkUserCombination(scope.filter, groupBy: [dimension], field: "dimension")
        let logger = plane.logger
        let filter = scope.filter
        let groups = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await scope.check(on: connection, logger: logger)
            return try await UsageAnalyticsRepository(connection, logger: logger).groups(filter, groupBy: [dimension], limit: limit)
        }
        return Llmlab_V1_TopNResponse.with { $0.entries = groups.map(Self.message) }
    }

    /// TopN by trace: the costliest traces of the range, from the per-trace summaries.
    func topTraces(_ request: Llmlab_V1_TopNRequest, principal: Principal, tenant: TenantRecord) async throws -> Llmlab_V1_TopNResponse {
        let limit = try Validate.pageSize(request.limit, field: "limit", default: 10, maximum: 100)
        for (field, value) in [("filter.provider", request.filter.provider), ("filter.api_key_id", request.filter.apiKeyID),
                               ("filter.route_id", request.filter.routeID)] where !value.isEmpty {
            throw ValidationError(field: field, reason: "does not apply to traces; filter them by project, model or user")
        }
        let scope = try await resolve(request.filter, hasFilter: request.hasFilter, principal: principal, tenant: tenant)
        let logger = plane.logger
        let filter = scope.filter
        let traces = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await scope.check(on: connection, logger: logger)
            return try await SpanRepository(connection, logger: logger).costliestTraces(
                since: filter.since, until: filter.until, projectID: filter.projectID, model: filter.model, userID: filter.endUser,
                limit: limit)
        }
        return Llmlab_V1_TopNResponse.with {
            $0.entries = traces.map { trace in
                Llmlab_V1_CostGroup.with {
                    $0.traceID = trace.traceID
                    $0.traceName = trace.rootName
                    $0.projectID = trace.projectID.uuidString.lowercased()
                    $0.user = trace.userID
                    $0.totals = .with {
                        $0.requests = Int64(trace.llmCallCount)
                        $0.errors = Int64(trace.errorCount)
                        $0.unpricedRequests = Int64(trace.costUnpricedSpans)
                        $0.inputTokens = Int64(trace.tokens.uncachedInput)
                        $0.cachedInputTokens = Int64(trace.tokens.cacheRead)
                        $0.cacheWrite5MTokens = Int64(trace.tokens.cacheWrite5m)
                        $0.cacheWrite1HTokens = Int64(trace.tokens.cacheWrite1h)
                        $0.outputTokens = Int64(trace.tokens.output)
                        $0.reasoningTokens = Int64(trace.tokens.reasoning)
                        $0.costUsd = trace.costUSD
                    }
                }
            }
        }
    }

    func modelHealth(request: Llmlab_V1_ModelHealthRequest, context: ServerContext) async throws -> Llmlab_V1_ModelHealthResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let scope = try await resolve(request.filter, hasFilter: request.hasFilter, principal: principal, tenant: tenant)
        guard scope.filter.endUser == nil else {
            throw ValidationError(field: "filter.user", reason: "is not supported by ModelHealth (latencies are kept per key and route, not per user); leave it empty")
        }
        let logger = plane.logger
        let filter = scope.filter
        let groups = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await scope.check(on: connection, logger: logger)
            return try await UsageAnalyticsRepository(connection, logger: logger)
                .groups(filter, groupBy: [.provider, .model], limit: Self.maximumGroups, latency: true)
        }
        let models = groups.map { group in
            let totals = group.totals
            let histogram = LatencyHistogram(upperBoundsMs: UsageRollup.latencyBoundsMs, counts: totals.latencyBuckets)
            return Llmlab_V1_ModelHealth.with {
                $0.provider = group.provider ?? ""
                $0.model = group.model ?? ""
                $0.requests = totals.requests
                $0.errors = totals.errors
                $0.errorRate = totals.requests == 0 ? 0 : Double(totals.errors) / Double(totals.requests)
                $0.meanLatencyMs = totals.requests == 0 ? 0 : Double(totals.latencyMsSum) / Double(totals.requests)
                $0.latencyP50Ms = Int32(clamping: histogram.percentile(50))
                $0.latencyP90Ms = Int32(clamping: histogram.percentile(90))
                $0.latencyP99Ms = Int32(clamping: histogram.percentile(99))
            }
        }.sorted { ($1.requests, $0.provider, $0.model) < ($0.requests, $1.provider, $1.model) }
        return Llmlab_V1_ModelHealthResponse.with { $0.models = models }
    }

    func forecast(request: Llmlab_V1_ForecastRequest, context: ServerContext) async throws -> Llmlab_V1_ForecastResponse {
        let (principal, tenant) = try CallContext.require().requireTenant()
        let projectFilter = try ProjectFilter(request.projectID, principal: principal)
        let now = Date()
        let asOf = request.hasAsOf ? request.asOf.date : now
        guard asOf <= now.addingTimeInterval(60) else {
            throw ValidationError(field: "as_of", reason: "must not be in the future")
        }
        let today = SpendForecaster.dayNumber(asOf)
        let (monthStartDay, _) = SpendForecaster.monthBounds(containing: today)
        let monthStart = Date(timeIntervalSince1970: Double(monthStartDay) * 86_400)
        let windowStart = Date(timeIntervalSince1970: Double(today - SpendForecaster.windowDays) * 86_400)
        let todayStart = Date(timeIntervalSince1970: Double(today) * 86_400)
        let logger = plane.logger
        let (projects, daily, monthToDate, firstDays) = try await plane.database.withTenantTransaction(tenant.scope) { connection in
            try await projectFilter.check(on: connection, logger: logger)
            let projects = try await ProjectRepository(connection, logger: logger)
                .list(includeArchived: false, limit: 1_000, after: nil, only: projectFilter.projectID)
            let ids = projects.map(\.id)
            let repository = UsageAnalyticsRepository(connection, logger: logger)
            let daily = try await repository.dailySpend(projectIDs: ids, since: windowStart, until: todayStart)
            let monthToDate = try await repository.spend(projectIDs: ids, since: monthStart, until: asOf)
            let firstDays = try await repository.firstUsageDay(projectIDs: ids)
            return (projects, daily, monthToDate, firstDays)
        }
        let forecasts = try projects.map { project in
            var spend: [Int: USDCost] = [:]
            for (day, text) in daily[project.id] ?? [:] { spend[day] = try Self.cost(text) }
            let forecast = SpendForecaster.forecast(
                monthToDate: try Self.cost(monthToDate[project.id] ?? "0"), dailySpend: spend,
                firstUsageDay: firstDays[project.id], asOf: asOf)
            return Llmlab_V1_ProjectForecast.with {
                $0.projectID = project.id.uuidString.lowercased()
                $0.projectName = project.name
                $0.monthStart = Google_Protobuf_Timestamp(date: forecast.monthStart)
                $0.monthToDateUsd = forecast.monthToDate.description
                $0.projectedMonthEndUsd = forecast.projected.description
                $0.lowUsd = forecast.low.description
                $0.highUsd = forecast.high.description
                $0.method = forecast.method.rawValue
                $0.historyDays = Int32(forecast.historyDays)
                if let budget = project.monthlyBudget {
                    $0.budgetUsd = budget.description
                    $0.forecastToExceedBudget = USDCost(microUSD: budget.micros) < forecast.projected
                }
            }
        }
        return Llmlab_V1_ForecastResponse.with { $0.forecasts = forecasts }
    }

    // MARK: - Validation

    /// A validated filter plus the ids that must be checked against the tenant's data.
    struct ResolvedFilter: Sendable {
        var filter: AnalyticsFilter
        var project: ProjectFilter
        var principal: Principal

        /// Inside the tenant transaction: a named project and route must exist and be visible.
        func check(on connection: PostgresConnection, logger: Logger) async throws {
            try await project.check(on: connection, logger: logger)
            if let routeID = filter.routeID {
                guard let route = try await RouteRepository(connection, logger: logger).find(id: routeID),
                      principal.mayAccess(project: route.projectID) else {
                    throw APIError.notFound("route", routeID.uuidString.lowercased())
                }
            }
        }
    }

    func resolve(_ request: Llmlab_V1_AnalyticsFilter, hasFilter: Bool, principal: Principal,
                 tenant: TenantRecord) async throws -> ResolvedFilter {
        guard hasFilter, request.hasSince else { throw ValidationError(field: "filter.since", reason: "is required") }
        guard request.hasUntil else { throw ValidationError(field: "filter.until", reason: "is required") }
        let since = request.since.date, until = request.until.date
        for (field, value) in [("filter.since", request.since), ("filter.until", request.until)]
        where value.nanos != 0 || value.seconds % 3_600 != 0 {
            throw ValidationError(field: field, reason: "must be on a whole UTC hour (the rollup's resolution), e.g. 2026-05-01T13:00:00Z")
        }
        guard since < until else { throw ValidationError(field: "filter.until", reason: "must be after filter.since") }
        guard until.timeIntervalSince(since) <= Self.maximumRange else {
            throw ValidationError(field: "filter.until", reason: "the range may cover at most 366 days")
        }
        let project = try ProjectFilter(request.projectID, principal: principal, field: "filter.project_id")
        var provider: String?
        if !request.provider.isEmpty {
            guard let known = Provider(rawValue: request.provider) else {
                throw ValidationError(field: "filter.provider", reason: "\"\(request.provider.prefix(40))\" is not a provider; use openai, azure_openai, anthropic or gemini")
            }
            provider = known.rawValue
        }
        let model = try Validate.text(request.model, field: "filter.model", maxLength: 200)
        let apiKeyID = try Validate.optionalID(request.apiKeyID, field: "filter.api_key_id")
        let routeID = try Validate.optionalID(request.routeID, field: "filter.route_id")
        if let apiKeyID {
            let logger = plane.logger
            let key = try await plane.database.withControlTransaction { connection in
                try await ApiKeyRepository(connection, logger: logger).find(tenantID: tenant.id, id: apiKeyID)
            }
            guard let key, key.projectID.map(principal.mayAccess(project:)) ?? true else {
                throw APIError.notFound("API key", apiKeyID.uuidString.lowercased())
            }
        }
        let user = try Validate.text(request.user, field: "filter.user", maxLength: 128)
        let filter = AnalyticsFilter(since: since, until: until, projectID: project.projectID, provider: provider,
                                     model: model.isEmpty ? nil : model, apiKeyID: apiKeyID, routeID: routeID,
                                     endUser: user.isEmpty ? nil : user)
        return ResolvedFilter(filter: filter, project: project, principal: principal)
    }

    static func dimension(_ value: Llmlab_V1_AnalyticsDimension, field: String) throws -> AnalyticsDimension {
        switch value {
        case .provider: return .provider
        case .model: return .model
        case .project: return .project
        case .apiKey: return .apiKey
        case .route: return .route
        case .day: return .day
        case .hour: return .hour
        case .user: return .user
        case .trace:
            throw ValidationError(field: field, reason: "trace ranks traces in TopN only; sum costs by another dimension")
        case .unspecified, .UNRECOGNIZED:
            throw ValidationError(field: field, reason: "must be one of provider, model, project, api_key, route, day, hour, user")
        }
    }

    /// Cost by end user comes from a rollup kept per UTC day, project and user: it combines
    /// with those only, and its range is whole days (ending at a midnight or now).
    static func checkUserCombination(_ filter: AnalyticsFilter, groupBy: [AnalyticsDimension], field: String,
                                     now: Date = Date()) throws {
        guard filter.needsUserRollup(groupBy: groupBy) else { return }
        let userField = filter.endUser != nil && !groupBy.contains(.user) ? "filter.user" : field
        if let other = groupBy.first(where: { !$0.combinesWithUser }) {
            throw ValidationError(field: userField, reason: "user combines only with project and day (cost by user is kept per UTC day and project); drop \(other.rawValue)")
        }
        for (name, set) in [("api_key_id", filter.apiKeyID != nil), ("route_id", filter.routeID != nil),
                            ("provider", filter.provider != nil), ("model", filter.model != nil)] where set {
            throw ValidationError(field: userField, reason: "user combines only with the project filter (cost by user is kept per UTC day and project); drop filter.\(name)")
        }
        guard Int(filter.since.timeIntervalSince1970) % 86_400 == 0 else {
            throw ValidationError(field: "filter.since", reason: "cost by user is kept per UTC day: start at a UTC midnight, e.g. 2026-05-01T00:00:00Z")
        }
        guard Int(filter.until.timeIntervalSince1970) % 86_400 == 0 || filter.until >= now.addingTimeInterval(-3_600) else {
            throw ValidationError(field: "filter.until", reason: "cost by user is kept per UTC day: end at a UTC midnight (or at the current hour)")
        }
    }

    static func cost(_ text: String) throws -> USDCost {
        try USDCost.parse(text, field: "cost_usd")
    }

    // MARK: - Mapping

    static func message(_ group: UsageGroupRecord) -> Llmlab_V1_CostGroup {
        Llmlab_V1_CostGroup.with {
            $0.provider = group.provider ?? ""
            $0.model = group.model ?? ""
            $0.projectID = group.projectID?.uuidString.lowercased() ?? ""
            $0.apiKeyID = group.apiKeyID?.uuidString.lowercased() ?? ""
            $0.routeID = group.routeID.flatMap { $0?.uuidString.lowercased() } ?? ""
            $0.user = group.endUser ?? ""
            if let day = group.day { $0.day = Google_Protobuf_Timestamp(date: day) }
            if let hour = group.hour { $0.hour = Google_Protobuf_Timestamp(date: hour) }
            $0.totals = message(group.totals)
        }
    }

    static func message(_ totals: UsageTotals) -> Llmlab_V1_CostTotals {
        Llmlab_V1_CostTotals.with {
            $0.requests = totals.requests
            $0.errors = totals.errors
            $0.unpricedRequests = totals.unpricedRequests
            $0.inputTokens = totals.inputTokens
            $0.cachedInputTokens = totals.cachedInputTokens
            $0.cacheWrite5MTokens = totals.cacheWrite5mTokens
            $0.cacheWrite1HTokens = totals.cacheWrite1hTokens
            $0.outputTokens = totals.outputTokens
            $0.reasoningTokens = totals.reasoningTokens
            $0.costUsd = totals.costUSD
        }
    }
}

extension AnalyticsDimension {
    var isTimeDimension: Bool { self == .day || self == .hour }
}
