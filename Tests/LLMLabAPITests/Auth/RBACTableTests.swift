import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import Testing

/// Every method the server registers appears in the RBAC table, and the table names
/// nothing that does not exist.
@Suite("RBAC table")
struct RBACTableTests {
    static let allMethods: [MethodDescriptor] =
        Grpc_Health_V1_Health.Method.descriptors
        + Llmlab_V1_TenantService.Method.descriptors
        + Llmlab_V1_AuthService.Method.descriptors
        + Llmlab_V1_UserService.Method.descriptors
        + Llmlab_V1_ProjectService.Method.descriptors
        + Llmlab_V1_ProviderKeyService.Method.descriptors
        + Llmlab_V1_RouteService.Method.descriptors
        + Llmlab_V1_PricingService.Method.descriptors
        + Llmlab_V1_UsageService.Method.descriptors
        + Llmlab_V1_AnalyticsService.Method.descriptors
        + Llmlab_V1_TraceQueryService.Method.descriptors
        + Llmlab_V1_AuditService.Method.descriptors
        + Llmlab_V1_AlertService.Method.descriptors
        + Llmlab_V1_BillingService.Method.descriptors
        + Opentelemetry_Proto_Collector_Trace_V1_TraceService.Method.descriptors

    @Test("every generated method has exactly one permission")
    func complete() {
        for method in Self.allMethods {
            #expect(RBACPolicy.permission(forMethod: method.fullyQualifiedMethod) != nil, "\(method.fullyQualifiedMethod) has no entry")
        }
    }

    @Test("the table has no entries for methods that do not exist")
    func noStrays() {
        let names = Set(Self.allMethods.map(\.fullyQualifiedMethod))
        for method in RBACPolicy.methodPermissions.keys {
            #expect(names.contains(method), "\(method) is not a generated method")
        }
    }

    @Test("only login and health checks are open")
    func openMethods() {
        let open = RBACPolicy.methodPermissions.filter { $0.value == .open }.keys.sorted()
        #expect(open == ["grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch", "llmlab.v1.AuthService/Login"])
    }
}
