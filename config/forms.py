"""What every page's form shares. A post can be wrong in two ways. What a person types (an evidence link, a date, a
target's value) goes back to the page with its message beside the field. What the page fills in itself (a hidden
field, a radio's, a select's or a button's value) is wrong only when the post did not come from the page as it was
sent: `refuse_malformed` answers that with a 400 that says what was wrong, not the page again."""

from django import forms

from config.errors import MalformedPost


class PageForm(forms.Form):
    """A page's form; errors on its `page_filled` fields make the post malformed."""

    page_filled: tuple[str, ...] = ()

    def is_page_filled(self, name: str) -> bool:
        return name in self.page_filled

    def malformed(self) -> list[str]:
        """The messages of the fields only the page fills in: none for a post the page sent."""
        return [message for name, found in self.errors.items() if self.is_page_filled(name) for message in found]

    def refuse_malformed(self) -> None:
        if problems := self.malformed():
            raise MalformedPost("; ".join(problems))

    def field_errors(self) -> dict[str, str]:
        """Each field's first message by its name in the page: the `errors` the templates show beside the fields."""
        return {self.add_prefix(name): found[0] for name, found in self.errors.items()}

    def typed(self, name: str):
        """What was sent in a field, as sent, to show it again: '' when it was left out."""
        value = self[name].data
        return "" if value is None else value
