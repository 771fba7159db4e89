import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf
import Testing

@Suite("Users and roles")
struct UserTests {
    @Test("the last owner can be neither demoted nor removed; with two owners one can go")
    func lastOwner() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("owners-co")
            let demote = await rpcError { _ = try await cp.users.setRole(.with { $0.userID = t.ownerID; $0.role = .admin }, metadata: t.ownerAuth) }
            #expect(demote?.code == .failedPrecondition)
            #expect(demote?.message.contains("last owner") == true)
            #expect(await rpcCode { _ = try await cp.users.removeUser(.with { $0.userID = t.ownerID }, metadata: t.ownerAuth) } == .failedPrecondition)

            let (secondID, secondToken) = try await cp.signedInUser(t, role: .owner)
            _ = try await cp.users.setRole(.with { $0.userID = t.ownerID; $0.role = .admin }, metadata: TestControlPlane.auth(secondToken))
            #expect(await rpcCode { _ = try await cp.users.removeUser(.with { $0.userID = secondID }, metadata: TestControlPlane.auth(secondToken)) } == .failedPrecondition)
            let users = try await cp.users.listUsers(.init(), metadata: TestControlPlane.auth(secondToken))
            #expect(users.users.filter { $0.role == .owner }.map(\.id) == [secondID])
        }
    }

    @Test("admins cannot grant owner or touch owners; members cannot manage users")
    func ceilings() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("ceiling-co")
            let (_, adminToken) = try await cp.signedInUser(t, role: .admin)
            let admin = TestControlPlane.auth(adminToken)
            #expect(await rpcCode {
                _ = try await cp.users.addUser(.with { $0.email = "x@ceiling-co.example"; $0.password = TestControlPlane.password; $0.role = .owner }, metadata: admin)
            } == .permissionDenied)
            #expect(await rpcCode { _ = try await cp.users.setRole(.with { $0.userID = t.ownerID; $0.role = .viewer }, metadata: admin) } == .permissionDenied)
            #expect(await rpcCode { _ = try await cp.users.removeUser(.with { $0.userID = t.ownerID }, metadata: admin) } == .permissionDenied)
            let (viewerID, _) = try await cp.signedInUser(t, role: .viewer)
            let promoted = try await cp.users.setRole(.with { $0.userID = viewerID; $0.role = .member }, metadata: admin)
            #expect(promoted.role == .member)
            let (_, memberToken) = try await cp.signedInUser(t, role: .member)
            #expect(await rpcCode { _ = try await cp.users.removeUser(.with { $0.userID = viewerID }, metadata: TestControlPlane.auth(memberToken)) } == .permissionDenied)
            _ = try await cp.users.removeUser(.with { $0.userID = viewerID }, metadata: admin)
            #expect(await rpcCode { _ = try await cp.users.removeUser(.with { $0.userID = viewerID }, metadata: admin) } == .notFound)
        }
    }

    @Test("duplicate emails and bad user input")
    func badInput() async throws {
        try await TestControlPlane.with { cp in
            let t = try await cp.makeTenant("userinput-co")
            #expect(await rpcCode {
                _ = try await cp.users.addUser(.with { $0.email = t.ownerEmail.uppercased(); $0.password = TestControlPlane.password; $0.role = .viewer }, metadata: t.ownerAuth)
            } == .alreadyExists)
            let cases: [(Llmlab_V1_AddUserRequest, String)] = [
                (.with { $0.email = "bad"; $0.password = TestControlPlane.password; $0.role = .viewer }, "email"),
                (.with { $0.email = "a@userinput-co.example"; $0.password = "short"; $0.role = .viewer }, "password"),
                (.with { $0.email = "a@userinput-co.example"; $0.password = TestControlPlane.password }, "role"),
            ]
            for (request, field) in cases {
                let error = await rpcError { _ = try await cp.users.addUser(request, metadata: t.ownerAuth) }
                #expect(error?.code == .invalidArgument)
                #expect(error?.message.contains(field) == true)
            }
            #expect(await rpcCode { _ = try await cp.users.setRole(.with { $0.userID = "123"; $0.role = .viewer }, metadata: t.ownerAuth) } == .invalidArgument)
            let checked1 = try await cp.users.listUsers(.init(), metadata: t.ownerAuth)
            #expect(checked1.users.count == 1)
        }
    }
}
