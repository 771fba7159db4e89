import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf
import Testing

/// Walks the whole RBAC table over real TLS for every role, the operator, a proxy-only
/// API key and no credential: an allowed call never fails with permissionDenied or
/// unauthenticated, a forbidden one always does, before any handler runs.
@Suite("RBAC enforcement")
struct RBACEnforcementTests {
    /// Calls `method` with an empty request. Empty requests fail validation when allowed,
    /// which is fine: only the authorization outcome is inspected.
    static func call(_ method: String, _ cp: TestControlPlane, _ metadata: Metadata) async -> RPCError.Code? {
        await rpcCode {
            switch method {
            case "grpc.health.v1.Health/Check": _ = try await cp.health.check(.init(), metadata: metadata)
            case "grpc.health.v1.Health/Watch":
                try await cp.health.watch(.init(), metadata: metadata) { response in
                    for try await _ in response.messages { break }
                }
            case "llmlab.v1.TenantService/CreateTenant": _ = try await cp.tenants.createTenant(.init(), metadata: metadata)
            case "llmlab.v1.TenantService/ListTenants": _ = try await cp.tenants.listTenants(.init(), metadata: metadata)
            case "llmlab.v1.TenantService/SuspendTenant": _ = try await cp.tenants.suspendTenant(.init(), metadata: metadata)
            case "llmlab.v1.TenantService/ResumeTenant": _ = try await cp.tenants.resumeTenant(.init(), metadata: metadata)
            case "llmlab.v1.TenantService/DeleteTenant": _ = try await cp.tenants.deleteTenant(.init(), metadata: metadata)
            case "llmlab.v1.AuthService/Login": _ = try await cp.auth.login(.init(), metadata: metadata)
            case "llmlab.v1.AuthService/Logout": _ = try await cp.auth.logout(.init(), metadata: [:])  // never end the shared session
            case "llmlab.v1.AuthService/WhoAmI": _ = try await cp.auth.whoAmI(.init(), metadata: metadata)
            case "llmlab.v1.AuthService/CreateApiKey": _ = try await cp.auth.createApiKey(.init(), metadata: metadata)
            case "llmlab.v1.AuthService/ListApiKeys": _ = try await cp.auth.listApiKeys(.init(), metadata: metadata)
            case "llmlab.v1.AuthService/RevokeApiKey": _ = try await cp.auth.revokeApiKey(.init(), metadata: metadata)
            case "llmlab.v1.AuthService/UpdateApiKey": _ = try await cp.auth.updateApiKey(.init(), metadata: metadata)
            case "llmlab.v1.UserService/AddUser": _ = try await cp.users.addUser(.init(), metadata: metadata)
            case "llmlab.v1.UserService/ListUsers": _ = try await cp.users.listUsers(.init(), metadata: metadata)
            case "llmlab.v1.UserService/SetRole": _ = try await cp.users.setRole(.init(), metadata: metadata)
            case "llmlab.v1.UserService/RemoveUser": _ = try await cp.users.removeUser(.init(), metadata: metadata)
            case "llmlab.v1.ProjectService/CreateProject": _ = try await cp.projects.createProject(.init(), metadata: metadata)
            case "llmlab.v1.ProjectService/ListProjects": _ = try await cp.projects.listProjects(.init(), metadata: metadata)
            case "llmlab.v1.ProjectService/GetProject": _ = try await cp.projects.getProject(.init(), metadata: metadata)
            case "llmlab.v1.ProjectService/UpdateProject": _ = try await cp.projects.updateProject(.init(), metadata: metadata)
            case "llmlab.v1.ProjectService/ArchiveProject": _ = try await cp.projects.archiveProject(.init(), metadata: metadata)
            case "llmlab.v1.ProviderKeyService/PutProviderKey": _ = try await cp.providerKeys.putProviderKey(.init(), metadata: metadata)
            case "llmlab.v1.ProviderKeyService/ListProviderKeys": _ = try await cp.providerKeys.listProviderKeys(.init(), metadata: metadata)
            case "llmlab.v1.ProviderKeyService/DeleteProviderKey": _ = try await cp.providerKeys.deleteProviderKey(.init(), metadata: metadata)
            case "llmlab.v1.RouteService/SetRoute": _ = try await cp.routes.setRoute(.init(), metadata: metadata)
            case "llmlab.v1.RouteService/ListRoutes": _ = try await cp.routes.listRoutes(.init(), metadata: metadata)
            case "llmlab.v1.RouteService/GetRoute": _ = try await cp.routes.getRoute(.init(), metadata: metadata)
            case "llmlab.v1.RouteService/DeleteRoute": _ = try await cp.routes.deleteRoute(.init(), metadata: metadata)
            case "llmlab.v1.RouteService/GetRouteHealth": _ = try await cp.routes.getRouteHealth(.init(), metadata: metadata)
            case "llmlab.v1.PricingService/SetPriceOverride": _ = try await cp.pricing.setPriceOverride(.init(), metadata: metadata)
            case "llmlab.v1.PricingService/ListPriceOverrides": _ = try await cp.pricing.listPriceOverrides(.init(), metadata: metadata)
            case "llmlab.v1.PricingService/DeletePriceOverride": _ = try await cp.pricing.deletePriceOverride(.init(), metadata: metadata)
            case "llmlab.v1.UsageService/ListUsageEvents":
                _ = try await Llmlab_V1_UsageService.Client(wrapping: cp.client).listUsageEvents(.init(), metadata: metadata)
            case "llmlab.v1.AnalyticsService/QueryCost":
                _ = try await Llmlab_V1_AnalyticsService.Client(wrapping: cp.client).queryCost(.init(), metadata: metadata)
            case "llmlab.v1.AnalyticsService/TopN":
                _ = try await Llmlab_V1_AnalyticsService.Client(wrapping: cp.client).topN(.init(), metadata: metadata)
            case "llmlab.v1.AnalyticsService/Forecast":
                _ = try await Llmlab_V1_AnalyticsService.Client(wrapping: cp.client).forecast(.init(), metadata: metadata)
            case "llmlab.v1.AnalyticsService/ModelHealth":
                _ = try await Llmlab_V1_AnalyticsService.Client(wrapping: cp.client).modelHealth(.init(), metadata: metadata)
            case "llmlab.v1.TraceQueryService/ListTraces": _ = try await cp.traces.listTraces(.init(), metadata: metadata)
            case "llmlab.v1.TraceQueryService/GetTrace": _ = try await cp.traces.getTrace(.init(), metadata: metadata)
            case "llmlab.v1.TraceQueryService/ExplainTrace": _ = try await cp.traces.explainTrace(.init(), metadata: metadata)
            case "opentelemetry.proto.collector.trace.v1.TraceService/Export":
                _ = try await Opentelemetry_Proto_Collector_Trace_V1_TraceService.Client(wrapping: cp.client).export(.init(), metadata: metadata)
            case "llmlab.v1.AlertService/CreateChannel": _ = try await cp.alerts.createChannel(.init(), metadata: metadata)
            case "llmlab.v1.AlertService/ListChannels": _ = try await cp.alerts.listChannels(.init(), metadata: metadata)
            case "llmlab.v1.AlertService/DeleteChannel": _ = try await cp.alerts.deleteChannel(.init(), metadata: metadata)
            case "llmlab.v1.AlertService/TestChannel": _ = try await cp.alerts.testChannel(.init(), metadata: metadata)
            case "llmlab.v1.AlertService/ListDeliveries": _ = try await cp.alerts.listDeliveries(.init(), metadata: metadata)
            case "llmlab.v1.AlertService/UpdateChannel": _ = try await cp.alerts.updateChannel(.init(), metadata: metadata)
            case "llmlab.v1.AlertService/RotateChannelSecret": _ = try await cp.alerts.rotateChannelSecret(.init(), metadata: metadata)
            case "llmlab.v1.AlertService/SetAlertRule": _ = try await cp.alerts.setAlertRule(.init(), metadata: metadata)
            case "llmlab.v1.AlertService/ListAlertRules": _ = try await cp.alerts.listAlertRules(.init(), metadata: metadata)
            case "llmlab.v1.AlertService/DeleteAlertRule": _ = try await cp.alerts.deleteAlertRule(.init(), metadata: metadata)
            case "llmlab.v1.AlertService/ListAlerts": _ = try await cp.alerts.listAlerts(.init(), metadata: metadata)
            case "llmlab.v1.BillingService/CreateConnection": _ = try await cp.billing.createConnection(.init(), metadata: metadata)
            case "llmlab.v1.BillingService/ListConnections": _ = try await cp.billing.listConnections(.init(), metadata: metadata)
            case "llmlab.v1.BillingService/DeleteConnection": _ = try await cp.billing.deleteConnection(.init(), metadata: metadata)
            case "llmlab.v1.BillingService/UpdateConnection": _ = try await cp.billing.updateConnection(.init(), metadata: metadata)
            case "llmlab.v1.BillingService/SyncConnection": _ = try await cp.billing.syncConnection(.init(), metadata: metadata)
            case "llmlab.v1.BillingService/ImportBillingCSV": _ = try await cp.billing.importBillingCSV(.init(), metadata: metadata)
            case "llmlab.v1.BillingService/GetReconciliation": _ = try await cp.billing.getReconciliation(.init(), metadata: metadata)
            case "llmlab.v1.BillingService/ListSyncRuns": _ = try await cp.billing.listSyncRuns(.init(), metadata: metadata)
            case "llmlab.v1.AuditService/ListAuditEvents": _ = try await cp.audit.listAuditEvents(.init(), metadata: metadata)
            case "llmlab.v1.AuditService/VerifyAuditChain": _ = try await cp.audit.verifyAuditChain(.init(), metadata: metadata)
            default: throw RPCError(code: .dataLoss, message: "test does not know \(method)")
            }
        }
    }

    @Test("every method, every kind of caller")
    func walkTheTable() async throws {
        try await TestControlPlane.with { cp in
            let tenant = try await cp.makeTenant("rbac-walk")
            var callers: [(String, Principal?, Metadata)] = [
                ("owner", Principal(kind: .user, id: .init(), tenantID: .init(), role: .owner), tenant.ownerAuth),
                ("operator", Principal(kind: .operator, id: .init(), scopes: []), cp.operatorAuth),
                ("anonymous", nil, [:]),
            ]
            for role in [Llmlab_V1_Role.viewer, .member, .admin] {
                let (_, token) = try await cp.signedInUser(tenant, role: role)
                let domainRole: Role = role == .viewer ? .viewer : role == .member ? .member : .admin
                callers.append(("\(domainRole)", Principal(kind: .user, id: .init(), tenantID: .init(), role: domainRole), TestControlPlane.auth(token)))
            }
            let proxyKey = try await cp.auth.createApiKey(.with {
                $0.name = "proxy only"
                $0.role = .owner
                $0.scopes = ["proxy"]
            }, metadata: tenant.ownerAuth)
            callers.append(("proxy-key", Principal(kind: .apiKey, id: .init(), tenantID: .init(), role: .owner, scopes: ["proxy"]),
                            TestControlPlane.auth(proxyKey.secret)))

            for (name, principal, metadata) in callers {
                for (method, permission) in RBACPolicy.methodPermissions.sorted(by: { $0.key < $1.key }) {
                    if method.hasSuffix("/Logout") { continue }
                    let code = await Self.call(method, cp, metadata)
                    let allowed = permission == .open || (principal.map { RBACPolicy.allows($0, permission) } ?? false)
                    if allowed {
                        #expect(code != .permissionDenied && code != .unauthenticated, "\(name) should be allowed \(method), got \(String(describing: code))")
                    } else if principal == nil {
                        #expect(code == .unauthenticated, "\(name) calling \(method): \(String(describing: code))")
                    } else {
                        #expect(code == .permissionDenied, "\(name) should be denied \(method), got \(String(describing: code))")
                    }
                }
            }
        }
    }

    @Test("garbage, unknown and malformed credentials are unauthenticated")
    func badCredentials() async throws {
        try await TestControlPlane.with { cp in
            for token in ["", "nonsense", "lls_doesnotexist", "llk_doesnotexist", "llo_doesnotexist", "Basic abc"] {
                let code = await rpcCode { _ = try await cp.projects.listProjects(.init(), metadata: TestControlPlane.auth(token)) }
                #expect(code == .unauthenticated, "\(token)")
            }
            let code = await rpcCode { _ = try await cp.projects.listProjects(.init(), metadata: ["authorization": "Basic dXNlcjpwYXNz"]) }
            #expect(code == .unauthenticated)
        }
    }
}
