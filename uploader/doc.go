// Package uploader owns everything between a file on disk and a verified object
// in a B2 bucket (or any S3-compatible store): the settings ([Config]), the S3
// client set up for B2, object key templates, one-pass SHA1 and Content-MD5,
// conditional puts that never overwrite, multipart uploads, the retry policy,
// and the links handed to the user.
//
// SDK types stay inside this package; callers see [Result], [Link] and errors
// that say what happened and what to do.
package uploader
