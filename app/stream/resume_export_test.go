package stream

// PruneFresh is how often the resume window reads PrunedThrough, for the
// bound its tests check.
const PruneFresh = pruneFresh
