/// What a bearer secret grants. The kind is visible in the secret's prefix so a leaked
/// string can be recognised (by people and by secret scanners) and routed to the right
/// lookup table without a database query.
public enum TokenKind: String, Sendable, Hashable, CaseIterable {
    /// A user's login session (`lls_…`).
    case session
    /// A project-scoped API key (`llk_…`).
    case apiKey
    /// The platform operator's token (`llo_…`).
    case `operator`

    /// The literal prefix every secret of this kind starts with.
    public var prefix: String {
        switch self {
        case .session: "lls_"
        case .apiKey: "llk_"
        case .operator: "llo_"
        }
    }
}
