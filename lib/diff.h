/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Line-based unified diffs of the small configuration files passthru setup edits. */
#pragma once

/*
 * The unified diff (three lines of context) that turns old into new, with "--- old_label" and
 * "+++ new_label" headers; old NULL means a new file (labelled /dev/null). *ret is "" when the
 * texts are equal. -E2BIG for inputs too large to compare line by line (over 2048 lines).
 */
int diff_unified(const char *old, const char *new, const char *old_label, const char *new_label,
		 char **ret);
