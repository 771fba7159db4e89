/// The one table that says which permission each RPC needs and which roles hold which
/// permissions. An RPC missing from the table is denied; tests walk every generated method.
public enum RBACPolicy {
    /// Full gRPC method name (`package.Service/Method`) → the permission it needs.
    public static let methodPermissions: [String: Permission] = [
        // Standard health checking: open so probes need no credential.
        "grpc.health.v1.Health/Check": .open,
        "grpc.health.v1.Health/Watch": .open,

        "llmlab.v1.TenantService/CreateTenant": .tenantsManage,
        "llmlab.v1.TenantService/ListTenants": .tenantsManage,
        "llmlab.v1.TenantService/SuspendTenant": .tenantsManage,
        "llmlab.v1.TenantService/ResumeTenant": .tenantsManage,
        "llmlab.v1.TenantService/DeleteTenant": .tenantsManage,

        "llmlab.v1.AuthService/Login": .open,
        "llmlab.v1.AuthService/Logout": .authenticated,
        "llmlab.v1.AuthService/WhoAmI": .authenticated,
        "llmlab.v1.AuthService/CreateApiKey": .apiKeysWrite,
        "llmlab.v1.AuthService/ListApiKeys": .apiKeysRead,
        "llmlab.v1.AuthService/RevokeApiKey": .apiKeysWrite,
        "llmlab.v1.AuthService/UpdateApiKey": .apiKeysWrite,

        "llmlab.v1.UserService/AddUser": .usersWrite,
        "llmlab.v1.UserService/ListUsers": .usersRead,
        "llmlab.v1.UserService/SetRole": .usersWrite,
        "llmlab.v1.UserService/RemoveUser": .usersWrite,

        "llmlab.v1.ProjectService/CreateProject": .projectsWrite,
        "llmlab.v1.ProjectService/ListProjects": .projectsRead,
        "llmlab.v1.ProjectService/GetProject": .projectsRead,
        "llmlab.v1.ProjectService/UpdateProject": .projectsWrite,
        "llmlab.v1.ProjectService/ArchiveProject": .projectsWrite,

        "llmlab.v1.ProviderKeyService/PutProviderKey": .providerKeysWrite,
        "llmlab.v1.ProviderKeyService/ListProviderKeys": .providerKeysRead,
        "llmlab.v1.ProviderKeyService/DeleteProviderKey": .providerKeysWrite,

        "llmlab.v1.RouteService/SetRoute": .routesWrite,
        "llmlab.v1.RouteService/ListRoutes": .routesRead,
        "llmlab.v1.RouteService/GetRoute": .routesRead,
        "llmlab.v1.RouteService/DeleteRoute": .routesWrite,
        "llmlab.v1.RouteService/GetRouteHealth": .routesRead,

        "llmlab.v1.PricingService/SetPriceOverride": .pricingWrite,
        "llmlab.v1.PricingService/ListPriceOverrides": .pricingRead,
        "llmlab.v1.PricingService/DeletePriceOverride": .pricingWrite,

        "llmlab.v1.UsageService/ListUsageEvents": .usageRead,

        "llmlab.v1.AnalyticsService/QueryCost": .usageRead,
        "llmlab.v1.AnalyticsService/TopN": .usageRead,
        "llmlab.v1.AnalyticsService/Forecast": .usageRead,
        "llmlab.v1.AnalyticsService/ModelHealth": .usageRead,

        "llmlab.v1.TraceQueryService/ListTraces": .tracesRead,
        "llmlab.v1.TraceQueryService/GetTrace": .tracesRead,
        "llmlab.v1.TraceQueryService/ExplainTrace": .tracesRead,

        "llmlab.v1.AlertService/CreateChannel": .alertsWrite,
        "llmlab.v1.AlertService/ListChannels": .alertsRead,
        "llmlab.v1.AlertService/DeleteChannel": .alertsWrite,
        "llmlab.v1.AlertService/TestChannel": .alertsWrite,
        "llmlab.v1.AlertService/ListDeliveries": .alertsRead,
        "llmlab.v1.AlertService/UpdateChannel": .alertsWrite,
        "llmlab.v1.AlertService/RotateChannelSecret": .alertsWrite,
        "llmlab.v1.AlertService/SetAlertRule": .alertsWrite,
        "llmlab.v1.AlertService/ListAlertRules": .alertsRead,
        "llmlab.v1.AlertService/DeleteAlertRule": .alertsWrite,
        "llmlab.v1.AlertService/ListAlerts": .alertsRead,

        "llmlab.v1.BillingService/CreateConnection": .billingWrite,
        "llmlab.v1.BillingService/ListConnections": .billingRead,
        "llmlab.v1.BillingService/DeleteConnection": .billingWrite,
        "llmlab.v1.BillingService/UpdateConnection": .billingWrite,
        "llmlab.v1.BillingService/SyncConnection": .billingWrite,
        "llmlab.v1.BillingService/ImportBillingCSV": .billingWrite,
        "llmlab.v1.BillingService/GetReconciliation": .billingRead,
        "llmlab.v1.BillingService/ListSyncRuns": .billingRead,

        // OTLP trace export: API keys with the `ingest` scope (and members' sessions).
        "opentelemetry.proto.collector.trace.v1.TraceService/Export": .tracesIngest,

        "llmlab.v1.AuditService/ListAuditEvents": .auditRead,
        "llmlab.v1.AuditService/VerifyAuditChain": .auditRead,
    ]

    /// Permissions each tenant role holds. Higher roles hold everything lower roles hold.
    public static func permissions(of role: Role) -> Set<Permission> {
        let viewer: Set<Permission> = [
            .authenticated, .projectsRead, .providerKeysRead, .usersRead, .apiKeysRead, .routesRead, .pricingRead,
            .usageRead, .tracesRead, .alertsRead, .billingRead,
        ]
        let member = viewer.union([.apiKeysWrite, .tracesIngest])
        let admin = member.union([
            .usersWrite, .projectsWrite, .providerKeysWrite, .auditRead, .routesWrite, .pricingWrite, .alertsWrite,
            .billingWrite,
        ])
        switch role {
        case .viewer: return viewer
        case .member: return member
        case .admin, .owner: return admin
        }
    }

    /// Permissions of the platform operator: provisioning and the control audit log,
    /// never a tenant's own data.
    public static let operatorPermissions: Set<Permission> = [
        .authenticated, .tenantsManage, .auditRead,
    ]

    /// The permission `method` needs, or `nil` when the method is unknown (deny).
    public static func permission(forMethod method: String) -> Permission? {
        methodPermissions[method]
    }

    /// Whether `principal` holds `permission`. Open permissions are checked before
    /// authentication and never reach here with a principal requirement.
    public static func allows(_ principal: Principal, _ permission: Permission) -> Bool {
        if permission == .open { return true }
        switch principal.kind {
        case .operator:
            return operatorPermissions.contains(permission)
        case .user, .apiKey:
            guard let role = principal.role else { return false }
            // An API key reaches the control API with the `control` scope, and exports
            // traces with the `ingest` scope (and nothing else with it).
            let scope = permission == .tracesIngest ? ApiKeyScope.ingest : ApiKeyScope.control
            if principal.kind == .apiKey, !principal.scopes.contains(scope) {
                return false
            }
            return permissions(of: role).contains(permission)
        }
    }
}
