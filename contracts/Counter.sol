// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Counter
/// @notice The contract `opdev smoke` deploys on every chain of a devnet: it proves that a chain
///         accepts a deployment, executes a state-changing call and serves the new state over RPC.
contract Counter {
    /// @notice The current value.
    uint256 public number;

    /// @notice Emitted by every `increment`, with the value it produced.
    event Incremented(address indexed by, uint256 newValue);

    /// @notice Adds one to `number`.
    function increment() external {
        uint256 next = number + 1;
        number = next;
        emit Incremented(msg.sender, next);
    }

    /// @notice Sets `number` to `newNumber`.
    function setNumber(uint256 newNumber) external {
        number = newNumber;
    }
}
