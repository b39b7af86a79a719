//! Integration tests of the orchestrator against real tools.

mod opstack_go;
