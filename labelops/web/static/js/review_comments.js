// The review page: a comment thread under each annotation, where the reviewer leaves remarks
// that the annotator sees on their labeling page.
import { mountComments } from "../labeling/comments.js";

for (const pane of document.querySelectorAll("article.pane[data-annotation-id]")) {
  mountComments(pane, Number(pane.dataset.annotationId));
}
