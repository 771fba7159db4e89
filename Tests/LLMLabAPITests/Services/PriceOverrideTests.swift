import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf
import Testing

@Suite("Price overrides")
struct PriceOverrideTests {
    /// A valid request for a week from now, changed by `edit`.
    static func request(_ edit: (inout Llmlab_V1_SetPriceOverrideRequest) -> Void) -> Llmlab_V1_SetPriceOverrideRequest {
        var request = Llmlab_V1_SetPriceOverrideRequest.with {
            $0.provider = .openai
            $0.model = "gpt-4o"
            $0.effectiveFrom = day(7)
            $0.prices = .with { $0.input = "2.5" }
        }
        edit(&request)
        return request
    }

    /// Requests that are wrong in exactly one field, with that field's wire name.
    static func invalidRequests() -> [(Llmlab_V1_SetPriceOverrideRequest, String)] {
        [
            (request { $0.provider = .unspecified }, "provider"),
            (request { $0.model = "" }, "model"),
            (request { $0.model = "gpt 4o" }, "model"),
            (request { $0.model = "models/" }, "model"),
            (request { $0.effectiveFrom = "" }, "effective_from"),
            (request { $0.effectiveFrom = "tomorrow" }, "effective_from"),
            (request { $0.effectiveFrom = "2031-02-30" }, "effective_from"),
            (request { $0.effectiveFrom = "2031-1-5" }, "effective_from"),
            (request { $0.effectiveFrom = day(-400) }, "effective_from"),
            (request { $0.prices = .init() }, "prices"),
            (request { $0.prices = .with { $0.input = "-1" } }, "prices.input"),
            (request { $0.prices = .with { $0.cachedInput = "1e-3" } }, "prices.cached_input"),
            (request { $0.prices = .with { $0.cacheWrite5M = "1000000" } }, "prices.cache_write_5m"),
            (request { $0.prices = .with { $0.cacheWrite1H = " 6" } }, "prices.cache_write_1h"),
            (request { $0.prices = .with { $0.input = "2"; $0.output = "abc" } }, "prices.output"),
            (request { $0.prices = .with { $0.reasoning = "1.2.3" } }, "prices.reasoning"),
        ]
    }

    @Test("set, replace before its day, list with pages, delete a future override; prices stay exact")
    func lifecycle() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("prices-co")
            let future = try await cp.pricing.setPriceOverride(.with {
                $0.provider = .openai
                $0.model = "gpt-4o"
                $0.effectiveFrom = day(30)
                $0.prices = .with { $0.input = "2.25"; $0.output = "9.000"; $0.cachedInput = "0.000000075" }
            }, metadata: t.ownerAuth)
            #expect(future.provider == .openai && future.model == "gpt-4o")
            #expect(future.effectiveFrom == day(30))
            #expect(future.prices == .with { $0.input = "2.25"; $0.output = "9"; $0.cachedInput = "0.000000075" })
            #expect(!future.inEffect)
            #expect(future.setBy == "user:\(t.ownerID)")

            // Same (provider, model, day) before the day: replaced whole, same id.
            let replaced = try await cp.pricing.setPriceOverride(.with {
                $0.provider = .openai
                $0.model = "gpt-4o"
                $0.effectiveFrom = day(30)
                $0.prices = .with { $0.cacheWrite5M = "3.75"; $0.cacheWrite1H = "6"; $0.reasoning = "12.5" }
            }, metadata: t.ownerAuth)
            #expect(replaced.id == future.id)
            // Spellings that pricing treats as one model are one override.
            let respelled = try await cp.pricing.setPriceOverride(.with {
                $0.provider = .openai
                $0.model = "GPT-4o"
                $0.effectiveFrom = day(30)
                $0.prices = .with { $0.cacheWrite5M = "3.75"; $0.cacheWrite1H = "6"; $0.reasoning = "12.5" }
            }, metadata: t.ownerAuth)
            #expect(respelled.id == future.id && respelled.model == "gpt-4o")
            #expect(replaced.prices == .with { $0.cacheWrite5M = "3.75"; $0.cacheWrite1H = "6"; $0.reasoning = "12.5" })

            let today = try await cp.pricing.setPriceOverride(.with {
                $0.provider = .openai
                $0.model = "gpt-4o"
                $0.effectiveFrom = day(0)
                $0.prices = .with { $0.input = "0" }
            }, metadata: t.ownerAuth)
            #expect(today.inEffect)
            #expect(today.prices.input == "0")
            let claude = try await cp.pricing.setPriceOverride(.with {
                $0.provider = .anthropic
                $0.model = "claude-sonnet-4-5"
                $0.effectiveFrom = day(1)
                $0.prices = .with { $0.output = "13.5" }
            }, metadata: t.ownerAuth)

            let all = try await cp.pricing.listPriceOverrides(.init(), metadata: t.ownerAuth)
            #expect(all.priceOverrides.map(\.id) == [claude.id, today.id, future.id])
            #expect(all.priceOverrides.map(\.inEffect) == [false, true, false])
            let openai = try await cp.pricing.listPriceOverrides(.with { $0.provider = .openai }, metadata: t.ownerAuth)
            #expect(openai.priceOverrides.map(\.id) == [today.id, future.id])
            let byModel = try await cp.pricing.listPriceOverrides(.with { $0.model = "Claude-Sonnet-4-5" }, metadata: t.ownerAuth)
            #expect(byModel.priceOverrides.map(\.id) == [claude.id])
            var paged: [String] = []
            var token = ""
            repeat {
                let page = try await cp.pricing.listPriceOverrides(.with { $0.pageSize = 2; $0.pageToken = token }, metadata: t.ownerAuth)
                paged += page.priceOverrides.map(\.id)
                token = page.nextPageToken
            } while !token.isEmpty
            #expect(paged == all.priceOverrides.map(\.id))

            // A viewer reads them but cannot change them.
            let (_, viewer) = try await cp.signedInUser(t, role: .viewer)
            let asViewer = TestControlPlane.auth(viewer)
            #expect(try await cp.pricing.listPriceOverrides(.init(), metadata: asViewer).priceOverrides.count == 3)
            #expect(await rpcCode { _ = try await cp.pricing.deletePriceOverride(.with { $0.id = future.id }, metadata: asViewer) } == .permissionDenied)

            _ = try await cp.pricing.deletePriceOverride(.with { $0.id = future.id }, metadata: t.ownerAuth)
            #expect(await rpcCode { _ = try await cp.pricing.deletePriceOverride(.with { $0.id = future.id }, metadata: t.ownerAuth) } == .notFound)
            let left = try await cp.pricing.listPriceOverrides(.init(), metadata: t.ownerAuth)
            #expect(left.priceOverrides.map(\.id) == [claude.id, today.id])

            // Stored as NUMERIC, not text.
            let scope = try cp.scope(t)
            let type = try await cp.database.database.withTenantTransaction(scope) { connection in
                var type = ""
                for try await value in try await connection.query(
                    "SELECT pg_typeof(output_usd_per_mtok)::text FROM price_overrides WHERE model = 'claude-sonnet-4-5'",
                    logger: TestControlPlane.logger).decode(String.self) { type = value }
                return type
            }
            #expect(type == "numeric")
        }
    }

    @Test("never retroactive: past days are refused, and an override in effect can be neither replaced nor deleted")
    func neverRetroactive() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("retro-co")
            let past = await rpcError {
                _ = try await cp.pricing.setPriceOverride(.with {
                    $0.provider = .openai; $0.model = "gpt-4o"; $0.effectiveFrom = day(-1); $0.prices = .with { $0.input = "2" }
                }, metadata: t.ownerAuth)
            }
            #expect(past?.code == .invalidArgument)
            #expect(past?.message.contains("effective_from") == true)
            #expect(past?.message.contains("past") == true)

            let active = try await cp.pricing.setPriceOverride(.with {
                $0.provider = .openai; $0.model = "gpt-4o"; $0.effectiveFrom = day(0); $0.prices = .with { $0.input = "2" }
            }, metadata: t.ownerAuth)
            let replace = await rpcError {
                _ = try await cp.pricing.setPriceOverride(.with {
                    $0.provider = .openai; $0.model = "gpt-4o"; $0.effectiveFrom = day(0); $0.prices = .with { $0.input = "1" }
                }, metadata: t.ownerAuth)
            }
            #expect(replace?.code == .failedPrecondition)
            #expect(replace?.message.contains("add a new override from a later date instead") == true)
            let delete = await rpcError { _ = try await cp.pricing.deletePriceOverride(.with { $0.id = active.id }, metadata: t.ownerAuth) }
            #expect(delete?.code == .failedPrecondition)
            #expect(delete?.message.contains("add a new override from a later date instead") == true)

            // An override whose day has passed (written as the calendar would leave it) stays too.
            let scope = try cp.scope(t)
            let old = try await cp.database.database.withTenantTransaction(scope) { connection in
                try await PriceOverrideRepository(connection, logger: TestControlPlane.logger).insert(PriceOverrideRecord(
                    id: UUID(), provider: .anthropic, model: "claude-opus-4-1", effectiveFrom: try #require(PriceDate.parse(day(-10))),
                    prices: PriceSheet(output: try TokenPrice.parse("70", field: "output")), setBy: "user:test"))
            }
            #expect(await rpcCode { _ = try await cp.pricing.deletePriceOverride(.with { $0.id = old.id.uuidString }, metadata: t.ownerAuth) } == .failedPrecondition)
            let listed = try await cp.pricing.listPriceOverrides(.init(), metadata: t.ownerAuth)
            #expect(listed.priceOverrides.map(\.id) == [old.id.uuidString.lowercased(), active.id])
            #expect(listed.priceOverrides.allSatisfy { $0.inEffect })
            #expect(listed.priceOverrides[1].prices.input == "2")

            // The way forward: a later override.
            let later = try await cp.pricing.setPriceOverride(.with {
                $0.provider = .openai; $0.model = "gpt-4o"; $0.effectiveFrom = day(1); $0.prices = .with { $0.input = "1" }
            }, metadata: t.ownerAuth)
            #expect(!later.inEffect)
        }
    }

    @Test("every invalid SetPriceOverride names its field and writes nothing")
    func validation() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("pricebad-co")
            let cases = Self.invalidRequests()
            for (request, field) in cases {
                let error = await rpcError { _ = try await cp.pricing.setPriceOverride(request, metadata: t.ownerAuth) }
                #expect(error?.code == .invalidArgument, "\(field): \(String(describing: error))")
                #expect(error?.message.contains(field) == true, "\(field): \(String(describing: error?.message))")
            }
            let listed = try await cp.pricing.listPriceOverrides(.init(), metadata: t.ownerAuth)
            #expect(listed.priceOverrides.isEmpty)
            #expect(await rpcCode { _ = try await cp.pricing.listPriceOverrides(.with { $0.model = "a b" }, metadata: t.ownerAuth) } == .invalidArgument)
            #expect(await rpcCode { _ = try await cp.pricing.listPriceOverrides(.with { $0.pageToken = "zz" }, metadata: t.ownerAuth) } == .invalidArgument)
            #expect(await rpcCode { _ = try await cp.pricing.deletePriceOverride(.with { $0.id = "nope" }, metadata: t.ownerAuth) } == .invalidArgument)
            #expect(await rpcCode { _ = try await cp.pricing.deletePriceOverride(.with { $0.id = UUID().uuidString }, metadata: t.ownerAuth) } == .notFound)
        }
    }

    @Test("every price mutation is audited with its prices")
    func audited() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("priceaudit-co")
            let set = Llmlab_V1_SetPriceOverrideRequest.with {
                $0.provider = .gemini; $0.model = "gemini-2.5-pro"; $0.effectiveFrom = day(3)
                $0.prices = .with { $0.input = "1.125"; $0.output = "9" }
            }
            let override = try await cp.pricing.setPriceOverride(set, metadata: t.ownerAuth)
            _ = try await cp.pricing.setPriceOverride(set, metadata: t.ownerAuth)
            _ = try await cp.pricing.deletePriceOverride(.with { $0.id = override.id }, metadata: t.ownerAuth)

            let events = try await cp.audit.listAuditEvents(.with { $0.pageSize = 500 }, metadata: t.ownerAuth)
                .events.filter { $0.target == "price_override:\(override.id)" }
            #expect(events.map(\.action) == [
                "llmlab.v1.PricingService/DeletePriceOverride", "llmlab.v1.PricingService/SetPriceOverride",
                "llmlab.v1.PricingService/SetPriceOverride",
            ])
            #expect(events[2].detail.contains("event=created") && events[1].detail.contains("event=replaced"))
            #expect(events[2].detail.contains("input=1.125") && events[2].detail.contains("output=9"))
            #expect(events[0].detail.contains("effective_from=\(day(3))"))
            #expect(try await cp.audit.verifyAuditChain(.init(), metadata: t.ownerAuth).ok)
        }
    }
}
