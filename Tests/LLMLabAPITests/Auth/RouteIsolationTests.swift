import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf
import Testing

/// The route and pricing RPCs keep tenants apart as the rest of the API does: tenant A's
/// credentials with tenant B's ids answer notFound and change nothing, and a project-scoped
/// key stays inside its project.
@Suite("Route and pricing isolation")
struct RouteIsolationTests {
    @Test("A's owner cannot see or touch B's routes, keys or price overrides")
    func crossTenantIDs() async throws {
        try await TestControlPlane.with { cp in
            let a = try await cp.makeTenant("riso-alpha")
            let b = try await cp.makeTenant("riso-beta")
            let (aProject, aKeys) = try await cp.projectWithKeys(a, keysFor: [.openai])
            let (bProject, bKeys) = try await cp.projectWithKeys(b, keysFor: [.openai])
            let aKey = try #require(aKeys[.openai]).id, bKey = try #require(bKeys[.openai]).id
            let bRoute = try await cp.routes.setRoute(.with {
                $0.projectID = bProject.id
                $0.alias = "gpt-4o"
                $0.deployments = [deployment(.openai, "gpt-4o", key: bKey)]
            }, metadata: b.ownerAuth)
            let bPrice = try await cp.pricing.setPriceOverride(.with {
                $0.provider = .openai; $0.model = "gpt-4o"; $0.effectiveFrom = day(10); $0.prices = .with { $0.input = "1" }
            }, metadata: b.ownerAuth)

            let asA = a.ownerAuth
            let calls: [(String, () async throws -> Void)] = [
                ("SetRoute(B's project)", {
                    _ = try await cp.routes.setRoute(.with {
                        $0.projectID = bProject.id; $0.alias = "gpt-4o"; $0.deployments = [deployment(.openai, "gpt-4o", key: bKey)]
                    }, metadata: asA)
                }),
                ("SetRoute(A's project, B's key)", {
                    _ = try await cp.routes.setRoute(.with {
                        $0.projectID = aProject.id; $0.alias = "gpt-4o"; $0.deployments = [deployment(.openai, "gpt-4o", key: bKey)]
                    }, metadata: asA)
                }),
                ("ListRoutes(B's project)", { _ = try await cp.routes.listRoutes(.with { $0.projectID = bProject.id }, metadata: asA) }),
                ("GetRoute", { _ = try await cp.routes.getRoute(.with { $0.id = bRoute.id }, metadata: asA) }),
                ("DeleteRoute", { _ = try await cp.routes.deleteRoute(.with { $0.id = bRoute.id }, metadata: asA) }),
                ("GetRouteHealth", { _ = try await cp.routes.getRouteHealth(.with { $0.id = bRoute.id }, metadata: asA) }),
                ("DeletePriceOverride", { _ = try await cp.pricing.deletePriceOverride(.with { $0.id = bPrice.id }, metadata: asA) }),
            ]
            for (name, call) in calls {
                let code = await rpcCode(call)
                #expect(code == .notFound, "\(name) with B's id answered \(String(describing: code))")
            }

            // A's lists show none of B's rows; A's own route on the same alias is A's alone.
            #expect(try await cp.routes.listRoutes(.init(), metadata: asA).routes.isEmpty)
            #expect(try await cp.pricing.listPriceOverrides(.init(), metadata: asA).priceOverrides.isEmpty)
            let aRoute = try await cp.routes.setRoute(.with {
                $0.projectID = aProject.id; $0.alias = "gpt-4o"; $0.deployments = [deployment(.openai, "gpt-4o", key: aKey)]
            }, metadata: asA)
            #expect(aRoute.id != bRoute.id)
            let aPrice = try await cp.pricing.setPriceOverride(.with {
                $0.provider = .openai; $0.model = "gpt-4o"; $0.effectiveFrom = day(10); $0.prices = .with { $0.input = "5" }
            }, metadata: asA)
            #expect(aPrice.id != bPrice.id)

            // B's data is exactly as B left it.
            #expect(try await cp.routes.getRoute(.with { $0.id = bRoute.id }, metadata: b.ownerAuth) == bRoute)
            let bPrices = try await cp.pricing.listPriceOverrides(.init(), metadata: b.ownerAuth)
            #expect(bPrices.priceOverrides == [bPrice])
            #expect(await rpcCode { _ = try await cp.routes.getRoute(.with { $0.id = aRoute.id }, metadata: b.ownerAuth) } == .notFound)
        }
    }

    @Test("a project-scoped API key sees only its project's routes and cannot change tenant prices")
    func projectScopedKey() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("rscoped-co")
            let (p1, keys1) = try await cp.projectWithKeys(t, name: "one", keysFor: [.openai])
            let (p2, keys2) = try await cp.projectWithKeys(t, name: "two", keysFor: [.openai])
            let key1 = try #require(keys1[.openai]).id, key2 = try #require(keys2[.openai]).id
            let r2 = try await cp.routes.setRoute(.with {
                $0.projectID = p2.id; $0.alias = "chat"; $0.deployments = [deployment(.openai, "gpt-4o", key: key2)]
            }, metadata: t.ownerAuth)
            let price = try await cp.pricing.setPriceOverride(.with {
                $0.provider = .openai; $0.model = "gpt-4o"; $0.effectiveFrom = day(5); $0.prices = .with { $0.output = "8" }
            }, metadata: t.ownerAuth)
            let apiKey = try await cp.auth.createApiKey(.with {
                $0.name = "p1 admin"; $0.role = .admin; $0.projectID = p1.id
            }, metadata: t.ownerAuth)
            let scoped = TestControlPlane.auth(apiKey.secret)

            let r1 = try await cp.routes.setRoute(.with {
                $0.projectID = p1.id; $0.alias = "chat"; $0.deployments = [deployment(.openai, "gpt-4o", key: key1)]
            }, metadata: scoped)
            #expect(try await cp.routes.listRoutes(.init(), metadata: scoped).routes.map(\.id) == [r1.id])
            let denied: [(String, () async throws -> Void)] = [
                ("SetRoute(p2)", {
                    _ = try await cp.routes.setRoute(.with {
                        $0.projectID = p2.id; $0.alias = "chat"; $0.deployments = [deployment(.openai, "gpt-4o", key: key2)]
                    }, metadata: scoped)
                }),
                ("SetRoute(p1, p2's key)", {
                    _ = try await cp.routes.setRoute(.with {
                        $0.projectID = p1.id; $0.alias = "chat"; $0.deployments = [deployment(.openai, "gpt-4o", key: key2)]
                    }, metadata: scoped)
                }),
                ("ListRoutes(p2)", { _ = try await cp.routes.listRoutes(.with { $0.projectID = p2.id }, metadata: scoped) }),
                ("GetRoute(p2)", { _ = try await cp.routes.getRoute(.with { $0.id = r2.id }, metadata: scoped) }),
                ("GetRouteHealth(p2)", { _ = try await cp.routes.getRouteHealth(.with { $0.id = r2.id }, metadata: scoped) }),
                ("DeleteRoute(p2)", { _ = try await cp.routes.deleteRoute(.with { $0.id = r2.id }, metadata: scoped) }),
            ]
            for (name, call) in denied {
                let code = await rpcCode(call)
                #expect(code == .notFound, "\(name) answered \(String(describing: code))")
            }

            #expect(try await cp.pricing.listPriceOverrides(.init(), metadata: scoped).priceOverrides.map(\.id) == [price.id])
            #expect(await rpcCode {
                _ = try await cp.pricing.setPriceOverride(.with {
                    $0.provider = .openai; $0.model = "gpt-4o"; $0.effectiveFrom = day(6); $0.prices = .with { $0.output = "1" }
                }, metadata: scoped)
            } == .permissionDenied)
            #expect(await rpcCode { _ = try await cp.pricing.deletePriceOverride(.with { $0.id = price.id }, metadata: scoped) } == .permissionDenied)
            #expect(try await cp.routes.getRoute(.with { $0.id = r2.id }, metadata: t.ownerAuth) == r2)
        }
    }
}
