#pragma once

// A SQLite VFS that opens a state database read-only and keeps every write
// in memory: tick --dry-run runs the real pass on it, and what it changes
// is gone when the connection closes. Only the pages the pass writes cost
// memory, where a copy of the database would cost all of them (247 MB at
// 1,000,000 jobs).
//
// The connection must use locking_mode EXCLUSIVE from the start, so that
// SQLite keeps the WAL index in its own memory rather than in the -shm
// file, and takes no lock on the files. The WAL is read whole when the
// connection opens it; the database file is read as the pass needs it.
// Both stay what a snapshot saw as long as a read transaction on another
// connection, opened before, is held (see open_connection): a writer may
// append to the WAL and a checkpoint may copy frames into the database up
// to that reader's snapshot, both of which leave what the connection reads
// as it was.

namespace vtc::store::detail {

// The name to open a connection with (registered on first use).
const char* overlay_vfs();

} // namespace vtc::store::detail
