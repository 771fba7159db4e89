/// What an RPC needs from its caller. Every RPC maps to exactly one permission in
/// ``RBACPolicy/methodPermissions``; roles grant sets of them.
public enum Permission: String, Sendable, Hashable, CaseIterable {
    /// No credential needed (login, health checks).
    case open
    /// Any valid credential (WhoAmI, Logout).
    case authenticated
    /// Platform operator only: provisioning tenants.
    case tenantsManage
    case auditRead
    case usersRead
    case usersWrite
    case apiKeysRead
    case apiKeysWrite
    case projectsRead
    case projectsWrite
    case providerKeysRead
    case providerKeysWrite
    /// Proxy routes and the health the proxy records for them.
    case routesRead
    case routesWrite
    /// The tenant's price overrides.
    case pricingRead
    case pricingWrite
    /// The tenant's metered proxy requests (usage events).
    case usageRead
    /// The tenant's traces and spans (queries and root-cause explanations).
    case tracesRead
    /// Export spans (OTLP) into a project's traces.
    case tracesIngest
    /// Alert rules, channels (webhook, Slack, email), the alert history and the delivery log.
    case alertsRead
    case alertsWrite
    /// Billing connections (provider invoices), imports and the reconciliation with tracked cost.
    case billingRead
    case billingWrite
}
