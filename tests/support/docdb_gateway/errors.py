"""Map DocumentDB's errors (packed SQLSTATEs) to MongoDB error codes.

DocumentDB raises PostgreSQL errors whose SQLSTATE is ``M`` plus four base-36 digits, one per
MongoDB error it knows, and puts the same SQLSTATE, packed into an int, in the ``code`` of
``writeErrors``. A client needs MongoDB's numeric codes (pymongo raises ``DuplicateKeyError``
only for 11000), so the gateway translates. Only the errors a client is likely to meet are
listed; anything else is reported as InternalError with the SQLSTATE in the message, so a gap
is visible rather than disguised as some other MongoDB error.
"""

from __future__ import annotations

# SQLSTATE -> (MongoDB code, MongoDB codeName)
_BY_SQLSTATE: dict[str, tuple[int, str]] = {
    "M0000": (1, "InternalError"),
    "M0001": (2, "BadValue"),
    "M0002": (5, "GraphContainsCycle"),
    "M0003": (9, "FailedToParse"),
    "M0004": (14, "TypeMismatch"),
    "M0005": (15, "Overflow"),
    "M0006": (20, "IllegalOperation"),
    "M0007": (23, "AlreadyInitialized"),
    "M0008": (26, "NamespaceNotFound"),
    "M0009": (27, "IndexNotFound"),
    "M000A": (28, "PathNotViable"),
    "M000B": (31, "RoleNotFound"),
    "M000C": (34, "CannotBackfillArray"),
    "M000D": (40, "ConflictingUpdateOperators"),
    "M000E": (43, "CursorNotFound"),
    "M000F": (48, "NamespaceExists"),
    "M000G": (52, "DollarPrefixedFieldName"),
    "M000H": (53, "InvalidIdField"),
    "M000I": (54, "NotSingleValueField"),
    "M000J": (56, "EmptyFieldName"),
    "M000K": (57, "DottedFieldName"),
    "M000L": (61, "ShardKeyNotFound"),
    "M000M": (66, "ImmutableField"),
    "M000N": (67, "CannotCreateIndex"),
    "M000O": (68, "IndexAlreadyExists"),
    "M000P": (72, "InvalidOptions"),
    "M000Q": (73, "InvalidNamespace"),
    "M000R": (85, "IndexOptionsConflict"),
    "M000S": (86, "IndexKeySpecsConflict"),
    "M000T": (111, "NotExactValueField"),
    "M000U": (115, "CommandNotSupported"),
    "M000V": (118, "NamespaceNotSharded"),
    "M000W": (146, "ExceededMemoryLimit"),
    "M000X": (159, "DurationOverflow"),
    "M000Y": (165, "ViewDepthLimitExceeded"),
    "M000Z": (166, "CommandNotSupportedOnView"),
    "M0010": (167, "OptionNotSupportedOnView"),
    "M0011": (181, "AmbiguousIndexKeyPattern"),
    "M0012": (197, "InvalidIndexSpecificationOption"),
    "M0013": (224, "QueryFeatureNotAllowed"),
    "M0014": (232, "MaxSubPipelineDepthExceeded"),
    "M0015": (241, "ConversionFailure"),
    "M0016": (263, "OperationNotSupportedInTransaction"),
    "M0017": (276, "IndexBuildAborted"),
    "M0019": (361, "CollectionUUIDMismatch"),
    "M001B": (10334, "BSONObjectTooLarge"),
    "M001C": (11000, "DuplicateKey"),
    "M001D": (12587, "BackgroundOperationInProgressForNamespace"),
    "M001H": (13113, "MergeStageNoMatchingDocument"),
    "M0023": (16554, "Location16554"),
    "M0024": (16610, "Location16610"),
    "M0025": (16611, "Location16611"),
    "M0034": (17124, "Location17124"),
    "M003A": (17419, "Location17419"),
    "M003B": (17420, "Location17420"),
    "M006M": (40081, "Location40081"),
    "M007U": (40324, "Location40324"),
    "M0088": (40415, "Location40415"),
    "M00CO": (121, "DocumentValidationFailure"),
    "M00DO": (16, "InvalidLength"),
    "M00E8": (10107, "NotWritablePrimary"),
    "M00EL": (143, "CursorInUse"),
    "M00ER": (13, "Unauthorized"),
    "M00EV": (18, "AuthenticationFailed"),
    "M00EW": (24, "LockTimeout"),
    "M00EX": (50, "MaxTimeMSExpired"),
    "M00EY": (59, "CommandNotFound"),
    "M00F0": (91, "ShutdownInProgress"),
    "M00F1": (112, "WriteConflict"),
    "M00F2": (117, "ConflictingOperationInProgress"),
    "M00F4": (201, "CannotBuildIndexKeys"),
    "M00F5": (225, "TransactionTooOld"),
    "M00F6": (251, "NoSuchTransaction"),
    "M00F7": (256, "TransactionCommitted"),
    "M00F8": (261, "TooManyLogicalSessions"),
    "M00FB": (50768, "NotARetryableWriteCommand"),
    "M00FD": (171, "CannotIndexParallelArrays"),
    "M00FE": (175, "QueryPlanKilled"),
    # Plain PostgreSQL states a client can provoke.
    "23505": (11000, "DuplicateKey"),
    # DocumentDB enforces unique indexes with exclusion constraints; findAndModify and index
    # builds over duplicate data surface the raw PostgreSQL error.
    "23P01": (11000, "DuplicateKey"),
    "40001": (112, "WriteConflict"),  # serialization_failure (REPEATABLE READ conflict)
    "40P01": (112, "WriteConflict"),  # deadlock_detected
    "55P03": (112, "WriteConflict"),  # lock_not_available (lock_timeout in a transaction)
    "57014": (50, "MaxTimeMSExpired"),  # query_canceled by statement_timeout
    "0A000": (115, "CommandNotSupported"),  # feature_not_supported (e.g. collation)
}

# States that MongoDB would report with the TransientTransactionError label inside a transaction.
TRANSIENT = frozenset({"40001", "40P01", "55P03", "M00F1"})


def unpack_sqlstate(packed: int) -> str:
    """Undo PostgreSQL's MAKE_SQLSTATE: five 6-bit characters offset from '0'."""
    packed &= 0xFFFFFFFF
    return "".join(chr(((packed >> (6 * i)) & 0x3F) + ord("0")) for i in range(5))


def mongo_code(sqlstate: str) -> tuple[int, str] | None:
    """MongoDB (code, codeName) for a SQLSTATE, or None when the gateway does not know it."""
    return _BY_SQLSTATE.get(sqlstate)


def describe(sqlstate: str, message: str) -> tuple[int, str, str]:
    """(code, codeName, errmsg) to send for an error DocumentDB raised."""
    known = mongo_code(sqlstate)
    if known:
        return known[0], known[1], message
    return 1, "InternalError", f"{message} [DocumentDB SQLSTATE {sqlstate}, unmapped]"
