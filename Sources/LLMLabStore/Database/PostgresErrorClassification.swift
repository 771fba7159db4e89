import PostgresNIO

// Classifies errors coming out of PostgresNIO so repositories can turn them into
// `StoreError`s without string matching. Each helper looks through
// `PostgresTransactionError` wrappers, so it works on anything a transaction throws.

/// The SQLSTATE of a server error (e.g. `23505`), or `nil` if `error` did not come from the server.
public func postgresSQLState(_ error: any Error) -> String? {
    serverError(error)?.serverInfo?[.sqlState]
}

/// The constraint a server error names (unique / foreign key / check), if any.
public func postgresConstraintName(_ error: any Error) -> String? {
    serverError(error)?.serverInfo?[.constraintName]
}

/// The server's primary message for an error (no bind values, no query text), if any.
/// Safe for logs; repositories should still phrase their own client-facing messages.
public func postgresServerMessage(_ error: any Error) -> String? {
    serverError(error)?.serverInfo?[.message]
}

/// `23505 unique_violation`.
public func isUniqueViolation(_ error: any Error) -> Bool { postgresSQLState(error) == "23505" }

/// `23503 foreign_key_violation`.
public func isForeignKeyViolation(_ error: any Error) -> Bool { postgresSQLState(error) == "23503" }

/// `23514 check_violation`.
public func isCheckViolation(_ error: any Error) -> Bool { postgresSQLState(error) == "23514" }

/// `23502 not_null_violation`.
public func isNotNullViolation(_ error: any Error) -> Bool { postgresSQLState(error) == "23502" }

/// `42501 insufficient_privilege` — what tenant isolation produces when a query reaches
/// outside its tenant.
public func isPermissionDenied(_ error: any Error) -> Bool { postgresSQLState(error) == "42501" }

/// `40001 serialization_failure` or `40P01 deadlock_detected`: the transaction may be retried.
public func isSerializationFailure(_ error: any Error) -> Bool {
    let state = postgresSQLState(error)
    return state == "40001" || state == "40P01"
}

/// True when the database could not be reached or went away (connection refused or reset,
/// pool closed, server shutting down, too many connections): map to "unavailable, retry".
public func isConnectionFailure(_ error: any Error) -> Bool {
    let error = unwrapTransactionError(error)
    if let psql = error as? PSQLError {
        switch psql.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed,
             .uncleanShutdown, .sslUnsupported, .failedToAddSSLHandler:
            return true
        case .server:
            guard let state = psql.serverInfo?[.sqlState] else { return false }
            // Class 08 connection exception; 57P01-03 admin/crash shutdown, cannot connect now;
            // 53300 too many connections.
            return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
        default:
            return false
        }
    }
    if error is NIOConnectionError || error is ChannelError || error is IOError {
        return true
    }
    // The pool's circuit breaker (`ConnectionPoolError.connectionCreationCircuitBreakerTripped`)
    // lives in a module PostgresNIO does not export; recognise it by its type name.
    let typeName = String(reflecting: type(of: error))
    return typeName.hasSuffix(".ConnectionPoolError")
}

/// Removes `PostgresTransactionError` wrapping: the closure's error if there was one, else
/// the failing BEGIN / COMMIT error.
func unwrapTransactionError(_ error: any Error) -> any Error {
    var current = error
    while let wrapped = current as? PostgresTransactionError {
        guard let inner = wrapped.closureError ?? wrapped.commitError ?? wrapped.beginError else { break }
        current = inner
    }
    return current
}

private func serverError(_ error: any Error) -> PSQLError? {
    guard let psql = unwrapTransactionError(error) as? PSQLError, psql.code == .server else { return nil }
    return psql
}
