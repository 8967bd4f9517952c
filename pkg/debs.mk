# pkg/debs.mk - host build tools and the pinned Debian packages.
LOCK := pkg/debs.lock
DEB_CACHE := $(CACHE)/debs
STAMP := $(O)/stamp

.PHONY: host-deps fetch update-lock
host-deps: $(STAMP)/host-deps
$(STAMP)/host-deps: pkg/host-packages.txt
	$(quiet) CHECK "host build tools"
	$(Q)sh pkg/host-deps.sh $<
	$(Q)mkdir -p $(@D) && touch $@

fetch: $(STAMP)/fetch
$(STAMP)/fetch: $(LOCK) $(BIN)/debs | $(STAMP)/host-deps
	$(quiet) FETCH $(DEB_CACHE)
	$(Q)$(BIN)/debs fetch --lock $(LOCK) --cache $(DEB_CACHE)
	$(Q)mkdir -p $(@D) && touch $@

update-lock:
	sh pkg/update-lock.sh pkg/debs.list $(LOCK)
