import ArgumentParser
import LLMLabProto
import SwiftProtobuf

/// `audit …`: read and verify the tamper-evident audit log (the caller's tenant log, or
/// the control log for the operator).
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List audit events and verify the audit hash chain.",
        subcommands: [List.self, Verify.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List audit events, newest first.")

        @Option(help: "Only events by this actor.")
        var actor: String?

        @Option(help: ArgumentHelp(
            "Only this exact action, e.g. llmlab.v1.ProjectService/CreateProject.", valueName: "action"))
        var action: String?


        @OptionGroup var window: TimeWindowOptions

        @OptionGroup var page: LimitOption

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let base = Llmlab_V1_ListAuditEventsRequest.with {
                $0.actor = actor ?? ""
                $0.action = action ?? ""
                if let since = window.since { $0.since = since.timestamp }
                if let until = window.until { $0.until = until.timestamp }
            }
            let events = try await global.withAuthenticatedClient { client in
                try await Pager.collect(limit: page.limit) { token, size in
                    var request = base
                    request.pageToken = token
                    request.pageSize = size
                    let page = try await client.audit.listAuditEvents(
                        request, metadata: client.metadata, options: client.options)
                    return (page.events, page.nextPageToken)
                }
            }
            try global.output.emitList(events, emptyText: "No audit events.") { events in
                var table = Table("SEQ", "TIME", "ACTOR", "ACTION", "OUTCOME", "TARGET", "DETAIL")
                for event in events {
                    table.add(
                        String(event.sequence),
                        Display.timestamp(event.occurredAt, isSet: event.hasOccurredAt),
                        Display.text(event.actor), event.action, event.outcome,
                        Display.text(event.target), event.detail)
                }
                return table
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk the audit hash chain from the first row; exit 1 if it is broken.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let response = try await global.withAuthenticatedClient { client in
                try await client.audit.verifyAuditChain(
                    Llmlab_V1_VerifyAuditChainRequest(), metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) {
                if response.ok {
                    print("ok: \(response.rowsChecked) rows checked, the chain is intact")
                } else {
                    let reason = response.reason.isEmpty ? "" : ": \(response.reason)"
                    print("BROKEN at sequence \(response.firstBrokenSequence)\(reason) (\(response.rowsChecked) rows checked)")
                }
            }
            if !response.ok { throw AdminError.negativeResult }
        }
    }
}
