//! Helpers shared by integration tests: `mod common;` then `common::schema::validate_devcontainer(&value)`.
#![allow(dead_code)]

pub mod schema;

// Docker tests (docker_build.rs, devcontainer_cli.rs): real daemon, stand-in base images, offline wheelhouse.
pub mod docker;
// External programs the tests drive: devgpu itself, the pinned Dev Containers CLI (tests/tools).
pub mod tools;
// Fake GPU device nodes and driver root (gpu_modes*.rs).
pub mod fake_gpu;
// Package index and image registry servers on loopback (live facts).
pub mod live;
