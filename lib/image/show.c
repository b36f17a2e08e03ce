/* SPDX-License-Identifier: MIT */
/*
 * crest show: print every file of an image directory.
 *
 * Protobuf images are printed generically by walking the protobuf-c
 * reflection data, so a new module's image shows up without any code here.
 * Two renderings: an indented human view, and one JSON document for the
 * whole directory:
 *
 *   {"format_version": N, "images": {"core-1.img": {...}, ...},
 *    "other_files": {"pages-1.img": {"size": N}, ...},
 *    "errors": {"bad-1.img": {"size": N, "error": "..."}}}
 *
 * A corrupted image gets a line with the reason and the walk continues;
 * crest_show() then returns -EBADMSG.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "crest.h"
#include "chain.h"
#include "image.h"
#include "inventory.pb-c.h"
#include "util/log.h"
#include "util/util.h"
#include "ns/mnt.h"

#define BYTES_SHORT 32          /* human view: bytes fields show this much */
#define LIST_PER_LINE 8         /* human view: repeated numbers per line */

struct show {
	FILE *out;
	bool json;
};

/* ---------------------------------------------------------------- values */

/* Unsigned integers whose name suggests an address, a mask or flags are
 * easier to read in hex (human view only; JSON numbers stay decimal). */
static bool want_hex(const ProtobufCMessageDescriptor *md, const char *name)
{
	static const char *const exact[] = {
		"start", "end", "vaddr", "rip", "rsp", "rbp", "addr", "handler",
		"restorer", "brk", "pgoff", "auxv", "xcr0", "eflags", "checksum",
		"mask", "sigmask", "blocked", "pending", "flags", "prot", "ip", "sp",
		"base", "madv", "events", "data",
	};
	static const char *const suffix[] = {
		"_base", "_start", "_end", "_addr", "_mask", "_ptr", "_pointer",
		"_ip", "_sp", "_flags", "_sigmask", "_handler", "_restorer",
	};
	static const char *const prefix[] = { "start_", "end_", "addr_" };
	size_t n = strlen(name);

	/* register sets: every field is a machine word */
	if (md->name && strlen(md->name) >= 4 && !strcmp(md->name + strlen(md->name) - 4, "Regs"))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
		if (!strcmp(name, exact[i]))
			return true;
	for (size_t i = 0; i < ARRAY_SIZE(suffix); i++) {
		size_t l = strlen(suffix[i]);
		if (n > l && !strcmp(name + n - l, suffix[i]))
			return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(prefix); i++)
		if (!strncmp(name, prefix[i], strlen(prefix[i])))
			return true;
	return false;
}

/* File modes and umasks read best in octal. */
static bool want_octal(const char *name)
{
	size_t n = strlen(name);

	return !strcmp(name, "mode") || !strcmp(name, "umask") ||
	       (n > 5 && !strcmp(name + n - 5, "_mode"));
}

static size_t type_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_FLOAT:
		return sizeof(float);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return 8;
	case PROTOBUF_C_TYPE_DOUBLE:
		return sizeof(double);
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	}
	return 0;
}

/* Is the field set?  *n: number of elements (1 for singular fields). */
static bool field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t *n)
{
	const char *base = (const char *)m;

	*n = 1;
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		*n = *(const size_t *)(base + f->quantifier_offset);
		return *n > 0;
	}
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
	if (f->label != PROTOBUF_C_LABEL_OPTIONAL)
		return true;    /* required, or proto3 plain field */
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(void *const *)(base + f->offset) != NULL;
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		const void *s = *(void *const *)(base + f->offset);
		return s && s != f->default_value;
	}
	return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

static const void *field_elem(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, size_t i)
{
	const char *p = (const char *)m + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const char *const *)p + i * type_size(f->type);
	return p;
}

/* Length of the valid UTF-8 sequence at p[0..len), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t len)
{
	unsigned char c = p[0];
	size_t seq = 0;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		seq = 2;
	else if ((c & 0xf0) == 0xe0)
		seq = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		seq = 4;
	if (!seq || seq > len)
		return 0;
	for (size_t k = 1; k < seq; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	/* no overlongs, surrogates or code points above U+10FFFF */
	if (seq == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0)))
		return 0;
	if (seq == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] >= 0x90)))
		return 0;
	return seq;
}

/* Quoted string.  JSON: standard escapes, and bytes that are not valid UTF-8
 * become \u00XX so the document stays valid whatever a path contains.
 * Human: C-like escapes (\xNN) for control bytes and invalid UTF-8. */
static void print_str(FILE *out, const char *s, size_t len, bool json)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		size_t seq;

		if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", out);
		} else if (c == '\t') {
			fputs("\\t", out);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(out, json ? "\\u%04x" : "\\x%02x", c);
		} else if ((seq = utf8_seq(p + i, len - i))) {
			fwrite(p + i, 1, seq, out);
			i += seq - 1;
		} else {
			fprintf(out, json ? "\\u%04x" : "\\x%02x", c);
		}
	}
	fputc('"', out);
}

static void json_str(FILE *out, const char *s, size_t len)
{
	print_str(out, s, len, true);
}

static void print_hex(FILE *out, const uint8_t *d, size_t len)
{
	for (size_t i = 0; i < len; i++)
		fprintf(out, "%02x", d[i]);
}

static void print_msg(struct show *s, const ProtobufCMessage *m, int depth);

static void indent(FILE *out, int depth)
{
	fprintf(out, "%*s", depth * (2), "");
}

/* One scalar (non-message) value. */
static void print_scalar(struct show *s, const ProtobufCMessageDescriptor *md,
			 const ProtobufCFieldDescriptor *f, const void *v)
{
	FILE *out = s->out;
	bool hex = !s->json && want_hex(md, f->name);
	bool oct = !s->json && want_octal(f->name);

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		fprintf(out, "%" PRId32, *(const int32_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		fprintf(out, oct ? "0%" PRIo32 : hex ? "0x%" PRIx32 : "%" PRIu32, *(const uint32_t *)v);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		fprintf(out, "%" PRId64, *(const int64_t *)v);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		fprintf(out, hex ? "0x%" PRIx64 : "%" PRIu64, *(const uint64_t *)v);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		double d = f->type == PROTOBUF_C_TYPE_FLOAT ? *(const float *)v : *(const double *)v;
		if (s->json && !isfinite(d))
			fputs("null", out);
		else
			fprintf(out, "%.17g", d);
		break;
	}
	case PROTOBUF_C_TYPE_BOOL:
		fputs(*(const protobuf_c_boolean *)v ? "true" : "false", out);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int32_t e = *(const int32_t *)v;
		const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, e);
		if (ev && s->json)
			json_str(out, ev->name, strlen(ev->name));
		else if (ev)
			fputs(ev->name, out);
		else
			fprintf(out, "%" PRId32, e);
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *str = *(const char *const *)v;
		if (!str)
			str = "";
		print_str(out, str, strlen(str), s->json);
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = v;
		if (s->json) {
			fputc('"', out);
			print_hex(out, b->data, b->len);
			fputc('"', out);
		} else if (b->len <= BYTES_SHORT) {
			fprintf(out, "<%zu bytes> ", b->len);
			print_hex(out, b->data, b->len);
		} else {
			fprintf(out, "<%zu bytes> ", b->len);
			print_hex(out, b->data, BYTES_SHORT);
			fputs("...", out);
		}
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		break;  /* handled by the callers */
	}
}

static bool is_list_type(ProtobufCType t)
{
	return t != PROTOBUF_C_TYPE_STRING && t != PROTOBUF_C_TYPE_BYTES &&
	       t != PROTOBUF_C_TYPE_MESSAGE;
}

static void human_field(struct show *s, const ProtobufCMessage *m,
			const ProtobufCFieldDescriptor *f, size_t n, int depth)
{
	FILE *out = s->out;
	const ProtobufCMessageDescriptor *md = m->descriptor;

	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		for (size_t i = 0; i < n; i++) {
			const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)field_elem(m, f, i);
			indent(out, depth);
			if (f->label == PROTOBUF_C_LABEL_REPEATED)
				fprintf(out, "%s[%zu] {\n", f->name, i);
			else
				fprintf(out, "%s {\n", f->name);
			if (sub)
				print_msg(s, sub, depth + 1);
			indent(out, depth);
			fputs("}\n", out);
		}
		return;
	}
	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		indent(out, depth);
		fprintf(out, "%s: ", f->name);
		print_scalar(s, md, f, field_elem(m, f, 0));
		fputc('\n', out);
		return;
	}
	if (!is_list_type(f->type)) {
		for (size_t i = 0; i < n; i++) {
			indent(out, depth);
			fprintf(out, "%s[%zu]: ", f->name, i);
			print_scalar(s, md, f, field_elem(m, f, i));
			fputc('\n', out);
		}
		return;
	}
	/* repeated numbers: [a, b, c] wrapped LIST_PER_LINE per line */
	indent(out, depth);
	fprintf(out, "%s: [", f->name);
	for (size_t i = 0; i < n; i++) {
		if (n > LIST_PER_LINE && i % LIST_PER_LINE == 0) {
			fputc('\n', out);
			indent(out, depth + 1);
		} else if (i) {
			fputc(' ', out);
		}
		print_scalar(s, md, f, field_elem(m, f, i));
		if (i + 1 < n)
			fputc(',', out);
	}
	if (n > LIST_PER_LINE) {
		fputc('\n', out);
		indent(out, depth);
	}
	fputs("]\n", out);
}

static void json_value(struct show *s, const ProtobufCMessage *m,
		       const ProtobufCFieldDescriptor *f, size_t i, int depth)
{
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)field_elem(m, f, i);
		if (sub)
			print_msg(s, sub, depth);
		else
			fputs("null", s->out);
		return;
	}
	print_scalar(s, m->descriptor, f, field_elem(m, f, i));
}

static void json_field(struct show *s, const ProtobufCMessage *m,
		       const ProtobufCFieldDescriptor *f, size_t n, int depth)
{
	FILE *out = s->out;

	indent(out, depth);
	json_str(out, f->name, strlen(f->name));
	fputs(": ", out);
	if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		json_value(s, m, f, 0, depth);
		return;
	}
	if (!n) {
		fputs("[]", out);
		return;
	}
	if (is_list_type(f->type)) {
		fputc('[', out);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputs(", ", out);
			json_value(s, m, f, i, depth);
		}
		fputc(']', out);
		return;
	}
	fputs("[\n", out);
	for (size_t i = 0; i < n; i++) {
		indent(out, depth + 1);
		json_value(s, m, f, i, depth + 1);
		fputs(i + 1 < n ? ",\n" : "\n", out);
	}
	indent(out, depth);
	fputc(']', out);
}

/* Human: the fields at depth (the caller prints braces).
 * JSON: a whole object "{...}", starting at the current column. */
static void print_msg(struct show *s, const ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *md = m->descriptor;
	bool first = true;

	if (s->json)
		fputc('{', s->out);
	for (unsigned i = 0; i < md->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &md->fields[i];
		size_t n;
		bool present = field_present(m, f, &n);

		if (s->json) {
			/* absent optionals are left out; empty lists are [] */
			if (!present && f->label != PROTOBUF_C_LABEL_REPEATED)
				continue;
			fputs(first ? "\n" : ",\n", s->out);
			json_field(s, m, f, n, depth + 1);
		} else {
			if (!present)
				continue;
			human_field(s, m, f, n, depth);
		}
		first = false;
	}
	if (m->n_unknown_fields) {
		if (s->json) {
			fputs(first ? "\n" : ",\n", s->out);
			indent(s->out, depth + 1);
			fprintf(s->out, "\"_unknown_fields\": %u", m->n_unknown_fields);
			first = false;
		} else {
			indent(s->out, depth);
			fprintf(s->out, "(%u unknown fields: image written by a newer crest?)\n",
				m->n_unknown_fields);
		}
	}
	if (s->json) {
		if (!first) {
			fputc('\n', s->out);
			indent(s->out, depth);
		}
		fputc('}', s->out);
	}
}

/* ------------------------------------------------------ raw wire format */

/* Images whose kind has no registered message are still verified and shown,
 * decoded from the protobuf wire format alone (like protoc --decode_raw):
 * field numbers, varints, fixed words, and length-delimited fields shown as
 * a nested message when they parse as one, else as a string or bytes. */

#define RAW_MAX_DEPTH 8

static bool rd_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && *pos < len; shift += 7) {
		uint8_t b = p[(*pos)++];
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

struct wire_field {
	uint32_t num;
	unsigned type;          /* 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32 */
	uint64_t v;
	const uint8_t *data;    /* type 2 */
	size_t len;
};

/* Next field at *pos; false at the end or on malformed input (*bad set). */
static bool wire_next(const uint8_t *p, size_t len, size_t *pos, struct wire_field *f, bool *bad)
{
	uint64_t key;

	*bad = false;
	if (*pos >= len)
		return false;
	*bad = true;
	if (!rd_varint(p, len, pos, &key) || (key >> 3) == 0 || (key >> 3) > 0x1fffffff)
		return false;
	f->num = key >> 3;
	f->type = key & 7;
	switch (f->type) {
	case 0:
		if (!rd_varint(p, len, pos, &f->v))
			return false;
		break;
	case 1:
		if (len - *pos < 8)
			return false;
		memcpy(&f->v, p + *pos, 8);
		*pos += 8;
		break;
	case 5: {
		uint32_t w;
		if (len - *pos < 4)
			return false;
		memcpy(&w, p + *pos, 4);
		f->v = w;
		*pos += 4;
		break;
	}
	case 2:
		if (!rd_varint(p, len, pos, &f->v) || f->v > len - *pos)
			return false;
		f->data = p + *pos;
		f->len = f->v;
		*pos += f->len;
		break;
	default:
		return false;   /* groups: never written by protobuf-c for proto2 here */
	}
	*bad = false;
	return true;
}

static bool printable_utf8(const uint8_t *p, size_t len);

/* A length-delimited field is shown as a message when it is not printable
 * text and parses completely as fields. */
static bool wire_is_msg(const uint8_t *p, size_t len, int depth)
{
	struct wire_field f;
	size_t pos = 0;
	bool bad;

	if (!len || depth >= RAW_MAX_DEPTH || printable_utf8(p, len))
		return false;
	while (wire_next(p, len, &pos, &f, &bad))
		;
	return !bad;
}

static bool printable_utf8(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len;) {
		size_t seq = utf8_seq(p + i, len - i);
		if (!seq || (p[i] < 0x20 && p[i] != '\n' && p[i] != '\t') || p[i] == 0x7f)
			return false;
		i += seq;
	}
	return true;
}

static void print_raw(struct show *s, const uint8_t *p, size_t len, int depth)
{
	FILE *out = s->out;
	struct wire_field f;
	size_t pos = 0;
	bool bad, first = true;

	if (s->json)
		fputc('[', out);
	while (wire_next(p, len, &pos, &f, &bad)) {
		bool nested = f.type == 2 && wire_is_msg(f.data, f.len, depth + 1);

		if (s->json) {
			fprintf(out, "%s[%" PRIu32 ", ", first ? "" : ", ", f.num);
			if (nested) {
				print_raw(s, f.data, f.len, depth + 1);
			} else if (f.type != 2) {
				fprintf(out, "%" PRIu64, f.v);
			} else if (printable_utf8(f.data, f.len)) {
				json_str(out, (const char *)f.data, f.len);
			} else {
				fputc('"', out);
				print_hex(out, f.data, f.len);
				fputc('"', out);
			}
			fputc(']', out);
			first = false;
			continue;
		}
		indent(out, depth);
		if (nested) {
			fprintf(out, "%" PRIu32 " {\n", f.num);
			print_raw(s, f.data, f.len, depth + 1);
			indent(out, depth);
			fputs("}\n", out);
			continue;
		}
		fprintf(out, "%" PRIu32 ": ", f.num);
		if (f.type == 0)
			fprintf(out, "%" PRIu64, f.v);
		else if (f.type == 1)
			fprintf(out, "0x%016" PRIx64 " (fixed64)", f.v);
		else if (f.type == 5)
			fprintf(out, "0x%08" PRIx64 " (fixed32)", f.v);
		else if (printable_utf8(f.data, f.len))
			print_str(out, (const char *)f.data, f.len, false);
		else {
			fprintf(out, "<%zu bytes> ", f.len);
			print_hex(out, f.data, MIN(f.len, (size_t)BYTES_SHORT));
			if (f.len > BYTES_SHORT)
				fputs("...", out);
		}
		fputc('\n', out);
	}
	if (s->json)
		fputc(']', out);
}

/* ----------------------------------------------------------- directory */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Sorted names of the entries of dirfd (without . and ..). */
static int list_dir(int dirfd, const char *path, char ***out, size_t *nout)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return pr_errno(-errno, "show: %s: dup", path);
	d = fdopendir(fd);
	if (!d) {
		int err = -errno;
		close(fd);
		return pr_errno(err, "show: %s: opendir", path);
	}
	rewinddir(d);
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap = cap ? cap * 2 : 32) * sizeof(*names));
			if (!nn)
				goto nomem;
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name)))
			goto nomem;
		n++;
	}
	if (errno) {
		int err = -errno;
		closedir(d);
		free_names(names, n);
		return pr_errno(err, "show: %s: readdir", path);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*nout = n;
	return 0;
nomem:
	closedir(d);
	free_names(names, n);
	pr_err("show: %s: out of memory listing the directory", path);
	return -ENOMEM;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t n = strlen(s), l = strlen(suf);
	return n >= l && !strcmp(s + n - l, suf);
}

/* Does the file start with the image magic?  (Raw files never do.) */
static bool has_crest_magic(int dirfd, const char *name)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char magic[4];

	return fd >= 0 && read(fd, magic, 4) == 4 && !memcmp(magic, CREST_IMG_MAGIC, 4);
}

/* Read and verify one image.  On failure *why gets the reason (malloc'ed). */
static int read_raw(int dirfd, const char *name, uint8_t **payload, size_t *len, char **why)
{
	_cleanup_free_ char *before = xstrdup(crest_last_error());
	int ret = img_read_raw(dirfd, name, payload, len);

	if (ret < 0) {
		const char *now = crest_last_error();
		/* the image module logged the reason; reuse its words */
		if (now && *now && (!before || strcmp(before, now)))
			*why = xstrdup(now);
		else
			xasprintf(why, "%s: cannot read image: %s", name, strerror(-ret));
	}
	return ret;
}

/* Read and decode one image.  On failure *why gets the reason (malloc'ed). */
static int load_image(int dirfd, const char *name, const ProtobufCMessageDescriptor *d,
		      ProtobufCMessage **msg, char **why)
{
	_cleanup_free_ uint8_t *payload = NULL;
	size_t len = 0;
	int ret;

	ret = read_raw(dirfd, name, &payload, &len, why);
	if (ret < 0)
		return ret;
	*msg = protobuf_c_message_unpack(d, NULL, len, payload);
	if (!*msg) {
		xasprintf(why, "%s: payload (%zu bytes, checksum ok) does not decode as %s: "
			  "written by an incompatible crest version?", name, len, d->name);
		pr_err("show: %s", *why);
		return -EBADMSG;
	}
	return 0;
}

/* Top-level format version: from inventory.img when it decodes. */
static bool inventory_version(const ProtobufCMessage *m, uint32_t *v)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "format_version");
	size_t n;

	if (!f || f->type != PROTOBUF_C_TYPE_UINT32 || f->label == PROTOBUF_C_LABEL_REPEATED ||
	    !field_present(m, f, &n))
		return false;
	*v = *(const uint32_t *)field_elem(m, f, 0);
	return true;
}

struct json_parts {
	FILE *images, *other, *errors;
	char *images_buf, *other_buf, *errors_buf;
	size_t images_len, other_len, errors_len;
	unsigned n_images, n_other, n_errors;
};

static void json_key(FILE *f, unsigned *count, const char *name)
{
	fputs(*count ? ",\n" : "\n", f);
	(*count)++;
	indent(f, 2);
	json_str(f, name, strlen(name));
	fputs(": ", f);
}

static void json_section(FILE *out, const char *key, FILE **f, char **buf, size_t *len,
			 unsigned count, bool last)
{
	fclose(*f);
	*f = NULL;
	fprintf(out, "  \"%s\": {", key);
	if (count) {
		fwrite(*buf, 1, *len, out);
		fputs("\n  ", out);
	}
	fputs(last ? "}\n" : "},\n", out);
}

/* An image made with --prev-images-dir: its chain of parents, each with
 * its dump id (a broken chain: the reason, and -EBADMSG). */
static int show_chain(int dirfd, const char *dir, bool json, FILE *out)
{
	Inventory *inv = NULL;
	struct img_chain *ch = NULL;
	int r = img_read(dirfd, "inventory.img", &inventory__descriptor, (ProtobufCMessage **)&inv, true);

	if (r < 0 || !inv->parent) {
		if (inv)
			protobuf_c_message_free_unpacked(&inv->base, NULL);
		return 0;
	}
	r = img_chain_open(dirfd, dir, inv, &ch);
	if (json)
		fputs("  \"chain\": ", out);
	else
		fputs("chain:", out);
	if (r < 0) {
		const char *why = crest_last_error();
		if (json) {
			fputs("{\"error\": ", out);
			json_str(out, why, strlen(why));
			fputs("},\n", out);
		} else {
			fprintf(out, " BROKEN: %s\n", why);
		}
	} else {
		if (json)
			fputc('[', out);
		for (size_t i = 0; i < ch->n; i++) {
			const Inventory *v = ch->inv[i];
			if (json) {
				fprintf(out, "%s{\"dir\": ", i ? ", " : "");
				json_str(out, ch->names[i], strlen(ch->names[i]));
				fprintf(out, ", \"pre_dump\": %s, \"dump_id\": %" PRIu64 "}", v->pre_dump ? "true" : "false",
					v->dump_id);
			} else {
				fprintf(out, "%s %s (%s, dump id %#" PRIx64 ")", i ? " <-" : "", ch->names[i],
					v->pre_dump ? "pre-dump" : "dump", v->dump_id);
			}
		}
		fputs(json ? "],\n" : "\n", out);
	}
	img_chain_free(ch);
	protobuf_c_message_free_unpacked(&inv->base, NULL);
	return r < 0 ? -EBADMSG : 0;
}

int crest_show(const char *images_dir, bool json, FILE *out)
{
	_cleanup_close_ int dirfd = -1;
	struct json_parts jp = { 0 };
	char **names = NULL;
	size_t n = 0;
	uint32_t fmt = 0;
	bool have_fmt = false;
	unsigned n_images = 0, n_other = 0, n_bad = 0;
	int ret, result = 0;

	if (!images_dir || !out)
		return -EINVAL;
	dirfd = open(images_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return pr_errno(-errno, "show: cannot open image directory %s", images_dir);
	ret = list_dir(dirfd, images_dir, &names, &n);
	if (ret < 0)
		return ret;

	if (json) {
		jp.images = open_memstream(&jp.images_buf, &jp.images_len);
		jp.other = open_memstream(&jp.other_buf, &jp.other_len);
		jp.errors = open_memstream(&jp.errors_buf, &jp.errors_len);
		if (!jp.images || !jp.other || !jp.errors) {
			pr_err("show: %s: out of memory", images_dir);
			result = -ENOMEM;
			goto out;
		}
	} else {
		fprintf(out, "crest image directory %s\n", images_dir);
	}

	for (size_t i = 0; i < n; i++) {
		const char *name = names[i];
		const ProtobufCMessageDescriptor *d = NULL;
		ProtobufCMessage *msg = NULL;
		_cleanup_free_ char *why = NULL;
		struct stat st;
		bool is_reg;

		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ret = -errno;
			xasprintf(&why, "%s: stat: %s", name, strerror(-ret));
			pr_err("show: %s/%s", images_dir, why);
			st.st_size = 0;
			is_reg = false;
			goto bad;
		}
		is_reg = S_ISREG(st.st_mode);
		if (is_reg && has_suffix(name, ".img"))
			d = img_descriptor_for(name);
		if (!d && is_reg && has_crest_magic(dirfd, name)) {
			/* a crest image whose kind nobody registered in lib/images.c */
			_cleanup_free_ uint8_t *payload = NULL;
			size_t len = 0;

			ret = read_raw(dirfd, name, &payload, &len, &why);
			if (ret < 0)
				goto bad;
			n_images++;
			if (json) {
				struct show s = { .out = jp.images, .json = true };
				json_key(jp.images, &jp.n_images, name);
				fputs("{\"_raw_protobuf\": ", jp.images);
				print_raw(&s, payload, len, 2);
				fputc('}', jp.images);
			} else {
				struct show s = { .out = out, .json = false };
				fprintf(out, "%s: image of unknown kind, raw protobuf fields (%lld bytes)\n", name,
					(long long)st.st_size);
				print_raw(&s, payload, len, 1);
			}
			continue;
		}
		if (!d) {
			n_other++;
			if (json) {
				json_key(jp.other, &jp.n_other, name);
				fprintf(jp.other, "{\"size\": %lld%s}", (long long)st.st_size,
					is_reg ? "" : S_ISDIR(st.st_mode) ? ", \"type\": \"directory\""
									  : ", \"type\": \"special\"");
			} else {
				fprintf(out, "%s: %s, %lld bytes\n", name,
					!is_reg ? (S_ISDIR(st.st_mode) ? "directory" : "special file")
					: has_suffix(name, ".img") ? "raw data" : "file",
					(long long)st.st_size);
			}
			continue;
		}
		ret = load_image(dirfd, name, d, &msg, &why);
		if (ret < 0)
			goto bad;

		n_images++;
		if (!strcmp(name, "inventory.img"))
			have_fmt = inventory_version(msg, &fmt);
		if (json) {
			struct show s = { .out = jp.images, .json = true };
			json_key(jp.images, &jp.n_images, name);
			print_msg(&s, msg, 2);
		} else {
			struct show s = { .out = out, .json = false };
			fprintf(out, "%s: %s (%lld bytes)\n", name, d->name, (long long)st.st_size);
			if (!strcmp(d->name, "MntNss"))
				mnt_show_tree(out, msg);   /* ns/mnt.c: the mount trees first */
			print_msg(&s, msg, 1);
		}
		protobuf_c_message_free_unpacked(msg, NULL);
		continue;
bad:
		n_bad++;
		if (!result || result == -EBADMSG)
			result = ret == -EBADMSG || ret == -EIO ? -EBADMSG : ret;
		if (json) {
			json_key(jp.errors, &jp.n_errors, name);
			fprintf(jp.errors, "{\"size\": %lld, \"error\": ", (long long)st.st_size);
			json_str(jp.errors, why ? why : "?", why ? strlen(why) : 1);
			fputc('}', jp.errors);
		} else {
			fprintf(out, "%s: ERROR: %s\n", name, why ? why : strerror(-ret));
		}
	}

	if (json) {
		fputs("{\n  \"format_version\": ", out);
		if (have_fmt)
			fprintf(out, "%" PRIu32 ",\n", fmt);
		else
			fputs("null,\n", out);
		if (show_chain(dirfd, images_dir, true, out) < 0 && !result)
			result = -EBADMSG;
		json_section(out, "images", &jp.images, &jp.images_buf, &jp.images_len, jp.n_images, false);
		json_section(out, "other_files", &jp.other, &jp.other_buf, &jp.other_len, jp.n_other, false);
		json_section(out, "errors", &jp.errors, &jp.errors_buf, &jp.errors_len, jp.n_errors, true);
		fputs("}\n", out);
	} else {
		if (show_chain(dirfd, images_dir, false, out) < 0 && !result)
			result = -EBADMSG;
		fprintf(out, "%zu files: %u images, %u other, %u unreadable\n", n, n_images, n_other, n_bad);
	}
	fflush(out);
out:
	if (jp.images)
		fclose(jp.images);
	if (jp.other)
		fclose(jp.other);
	if (jp.errors)
		fclose(jp.errors);
	free(jp.images_buf);
	free(jp.other_buf);
	free(jp.errors_buf);
	free_names(names, n);
	return result;
}
