import Foundation
import LLMLabCore
import Testing

@Suite("RBAC policy")
struct RBACPolicyTests {
    func principal(_ kind: Principal.Kind, role: Role?, scopes: Set<String> = ApiKeyScope.all) -> Principal {
        Principal(kind: kind, id: UUID(), tenantID: kind == .operator ? nil : UUID(), role: role, scopes: scopes)
    }

    @Test("roles are ordered viewer < member < admin < owner")
    func ordering() {
        #expect(Role.allCases.sorted() == [.viewer, .member, .admin, .owner])
    }

    @Test("higher roles hold everything lower roles hold")
    func monotonic() {
        let roles = Role.allCases.sorted()
        for (lower, higher) in zip(roles, roles.dropFirst()) {
            #expect(RBACPolicy.permissions(of: lower).isSubset(of: RBACPolicy.permissions(of: higher)))
        }
    }

    @Test("the expected grants, permission by permission")
    func grants() {
        let expected: [Permission: Set<Role>] = [
            .authenticated: Set(Role.allCases),
            .projectsRead: Set(Role.allCases), .providerKeysRead: Set(Role.allCases),
            .usersRead: Set(Role.allCases), .apiKeysRead: Set(Role.allCases),
            .routesRead: Set(Role.allCases), .pricingRead: Set(Role.allCases),
            .usageRead: Set(Role.allCases), .tracesRead: Set(Role.allCases),
            .apiKeysWrite: [.member, .admin, .owner], .tracesIngest: [.member, .admin, .owner],
            .projectsWrite: [.admin, .owner], .providerKeysWrite: [.admin, .owner],
            .usersWrite: [.admin, .owner], .auditRead: [.admin, .owner],
            .routesWrite: [.admin, .owner], .pricingWrite: [.admin, .owner],
            .tenantsManage: [],
        ]
        for (permission, roles) in expected {
            for role in Role.allCases {
                #expect(RBACPolicy.allows(principal(.user, role: role), permission) == roles.contains(role),
                        "\(role) / \(permission)")
            }
        }
    }

    @Test("the operator manages tenants and nothing inside them")
    func operatorPermissions() {
        let op = principal(.operator, role: nil)
        #expect(RBACPolicy.allows(op, .tenantsManage))
        #expect(RBACPolicy.allows(op, .auditRead))
        for permission in [Permission.projectsRead, .projectsWrite, .usersWrite, .providerKeysWrite, .apiKeysWrite,
                           .routesRead, .routesWrite, .pricingRead, .pricingWrite] {
            #expect(!RBACPolicy.allows(op, permission))
        }
    }

    @Test("an API key without the control scope cannot use the control API")
    func scopes() {
        let proxyOnly = principal(.apiKey, role: .owner, scopes: [ApiKeyScope.proxy])
        #expect(!RBACPolicy.allows(proxyOnly, .projectsRead))
        let control = principal(.apiKey, role: .viewer, scopes: [ApiKeyScope.control])
        #expect(RBACPolicy.allows(control, .projectsRead))
        #expect(!RBACPolicy.allows(control, .projectsWrite))
    }

    @Test("trace export needs the ingest scope, and the ingest scope grants nothing else")
    func ingestScope() {
        let ingest = principal(.apiKey, role: .member, scopes: [ApiKeyScope.ingest])
        #expect(RBACPolicy.allows(ingest, .tracesIngest))
        #expect(!RBACPolicy.allows(ingest, .tracesRead))
        #expect(!RBACPolicy.allows(ingest, .projectsRead))
        #expect(!RBACPolicy.allows(principal(.apiKey, role: .owner, scopes: [ApiKeyScope.control, ApiKeyScope.proxy]), .tracesIngest))
        #expect(!RBACPolicy.allows(principal(.apiKey, role: .viewer, scopes: [ApiKeyScope.ingest]), .tracesIngest))
        #expect(!RBACPolicy.allows(principal(.operator, role: nil), .tracesIngest))
        #expect(RBACPolicy.permission(forMethod: "opentelemetry.proto.collector.trace.v1.TraceService/Export") == .tracesIngest)
    }

    @Test("unknown methods have no permission (deny)")
    func unknownMethods() {
        #expect(RBACPolicy.permission(forMethod: "llmlab.v1.ProjectService/DropEverything") == nil)
        #expect(RBACPolicy.permission(forMethod: "") == nil)
    }
}
