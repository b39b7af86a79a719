// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// The value types below are ABI-identical to the dispute types of the OP Stack contracts that
/// opdev deploys (@eth-optimism/contracts-bedrock 0.17.3): the factory and OptimismPortal2 call
/// this game through those types.
type GameType is uint32;
type Claim is bytes32;
type Hash is bytes32;
type Timestamp is uint64;

/// @notice A game's status; DEFENDER_WINS (2) is the only one an OutputGame ever reports.
enum GameStatus {
    IN_PROGRESS,
    CHALLENGER_WINS,
    DEFENDER_WINS
}

/// @title OutputGame
/// @notice opdev's dispute game for the lite bridge: an output proposal that is accepted the
///         moment it is made. The DisputeGameFactory clones this contract for every proposal,
///         the clone resolves to DEFENDER_WINS inside `initialize`, and OptimismPortal2 lets
///         withdrawals proven against it finalize once its own proof-maturity and
///         dispute-game-finality delays have passed. There is nothing to dispute, so a devnet's
///         security rests on who may propose: `proposer`, or anyone when it is the zero address.
///
///         Game type opdev registers it under: DEFAULT_GAME_TYPE = 254 (unused by the OP Stack's
///         own games: 0 cannon, 1 permissioned cannon, 2 asterisc, 255 alphabet). The factory's
///         init bond for it should be 0: a bond paid to `initialize` stays in the clone.
///
/// @dev Immutable arguments. The factory creates each game as a clone with immutable arguments
///      and the clone appends, to the calldata of every call it forwards here,
///      `abi.encodePacked(gameCreator, rootClaim, l1Head, extraData)` followed by a big-endian
///      uint16 that holds the length of that block plus the 2 bytes of the uint16 itself. The
///      arguments therefore start at `calldatasize() - uint16(last two bytes)`:
///      creator at +0 (20 bytes), root claim at +20, L1 head (parent block hash) at +52, and
///      extra data from +84 up to the final two bytes. Extra data is the abi-encoded uint256 L2
///      block number (32 bytes, as op-proposer sends it), so `initialize()` sees exactly
///      4 + 84 + 32 + 2 = 122 bytes of calldata.
contract OutputGame {
    /// @notice Semantic version.
    string public constant version = "1.0.0";

    /// @dev Size of the packed arguments before the extra data: creator, root claim, L1 head.
    uint256 private constant FIXED_ARGS = 84;

    /// @dev The only accepted extra data: one abi-encoded uint256.
    uint256 private constant EXTRA_DATA_LENGTH = 32;

    /// @dev Game type this implementation and all its clones report.
    GameType internal immutable GAME_TYPE;

    /// @notice Only address allowed to create games; address(0) lets anyone create them.
    address public immutable proposer;

    /// @dev Set together in `initialize`; they share one storage slot.
    Timestamp internal _createdAt;
    Timestamp internal _resolvedAt;
    GameStatus internal _status;
    bool internal _initialized;

    /// @notice Emitted when the game is resolved (once, in `initialize`).
    event Resolved(GameStatus indexed status);

    /// @notice `initialize` was called a second time.
    error AlreadyInitialized();

    /// @notice The game was created by someone other than `proposer`.
    error NotProposer(address creator);

    /// @notice The calldata does not carry exactly 32 bytes of extra data.
    error BadExtraData();

    /// @param gameType_ Game type the factory registers this implementation under.
    /// @param proposer_ Only creator accepted, or address(0) for anyone.
    constructor(uint32 gameType_, address proposer_) {
        GAME_TYPE = GameType.wrap(gameType_);
        proposer = proposer_;
    }

    /// @notice Called by the factory right after cloning: checks the creator and the extra data,
    ///         and resolves the game at once.
    function initialize() external payable {
        if (_initialized) revert AlreadyInitialized();
        if (msg.data.length != 4 + FIXED_ARGS + EXTRA_DATA_LENGTH + 2) revert BadExtraData();
        if (_argsLength() != FIXED_ARGS + EXTRA_DATA_LENGTH) revert BadExtraData();
        address creator = gameCreator();
        if (proposer != address(0) && creator != proposer) revert NotProposer(creator);
        Timestamp now_ = Timestamp.wrap(uint64(block.timestamp));
        _createdAt = now_;
        _resolvedAt = now_;
        _status = GameStatus.DEFENDER_WINS;
        _initialized = true;
        emit Resolved(GameStatus.DEFENDER_WINS);
    }

    /// @notice The game resolved in `initialize`; this only reports the outcome.
    function resolve() external view returns (GameStatus status_) {
        status_ = _status;
    }

    /// @notice When the factory created this game.
    function createdAt() external view returns (Timestamp createdAt_) {
        createdAt_ = _createdAt;
    }

    /// @notice When the game resolved (the same as `createdAt`).
    function resolvedAt() external view returns (Timestamp resolvedAt_) {
        resolvedAt_ = _resolvedAt;
    }

    /// @notice DEFENDER_WINS once initialized.
    function status() external view returns (GameStatus status_) {
        status_ = _status;
    }

    /// @notice Game type given at deployment.
    function gameType() public view returns (GameType gameType_) {
        gameType_ = GAME_TYPE;
    }

    /// @notice Account that called the factory's `create`.
    function gameCreator() public pure returns (address creator_) {
        uint256 start = _argsStart();
        assembly {
            creator_ := shr(96, calldataload(start))
        }
    }

    /// @notice The proposed output root.
    function rootClaim() public pure returns (Claim rootClaim_) {
        uint256 start = _argsStart();
        assembly {
            rootClaim_ := calldataload(add(start, 20))
        }
    }

    /// @notice Hash of the L1 block before the one that created the game.
    function l1Head() external pure returns (Hash l1Head_) {
        uint256 start = _argsStart();
        assembly {
            l1Head_ := calldataload(add(start, 52))
        }
    }

    /// @notice The extra data given to `create`: the abi-encoded L2 block number.
    function extraData() public pure returns (bytes memory extraData_) {
        uint256 start = _argsStart() + FIXED_ARGS;
        extraData_ = msg.data[start:msg.data.length - 2];
    }

    /// @notice The parts of the game's UUID in the factory: game type, root claim, extra data.
    function gameData() external view returns (GameType gameType_, Claim rootClaim_, bytes memory extraData_) {
        gameType_ = gameType();
        rootClaim_ = rootClaim();
        extraData_ = extraData();
    }

    /// @notice L2 block number the root claim is the output root of.
    function l2BlockNumber() public pure returns (uint256 l2BlockNumber_) {
        uint256 start = _argsStart() + FIXED_ARGS;
        assembly {
            l2BlockNumber_ := calldataload(start)
        }
    }

    /// @notice The same as `l2BlockNumber`; newer OP Stack clients (viem) ask for it by this name.
    function l2SequenceNumber() external pure returns (uint256 l2SequenceNumber_) {
        l2SequenceNumber_ = l2BlockNumber();
    }

    /// @dev Offset in calldata where the clone's appended arguments begin.
    function _argsStart() private pure returns (uint256 start_) {
        start_ = msg.data.length - _argsLength() - 2;
    }

    /// @dev Length of the clone's appended arguments, read from the trailing uint16.
    function _argsLength() private pure returns (uint256 length_) {
        uint256 trailer;
        assembly {
            trailer := shr(240, calldataload(sub(calldatasize(), 2)))
        }
        length_ = trailer - 2;
    }
}
